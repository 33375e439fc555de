/**
 * The control token arrives in the URL fragment (`#token=...`, from the `ui` URL of the ready
 * line). It must be read before hash routing looks at the fragment. Pure functions: unit-tested.
 */

export interface HashParts {
  /** The token carried by the fragment, if any. */
  token: string | null;
  /** The route part of the fragment ('/accounts'), '' when none. */
  route: string;
}

/**
 * Splits a location hash into a token and a route. Accepted forms: `#token=T`,
 * `#token=T&route=/keys`, `#/keys`, `#/keys?token=T`, `#/keys&token=T`.
 */
export function parseHash(hash: string): HashParts {
  const h = hash.startsWith('#') ? hash.slice(1) : hash;
  if (h === '') return { token: null, route: '' };
  if (h.startsWith('/')) {
    const cut = h.search(/[?&]/);
    if (cut < 0) return { token: null, route: h };
    const params = new URLSearchParams(h.slice(cut + 1));
    return { token: nonEmpty(params.get('token')), route: h.slice(0, cut) };
  }
  const params = new URLSearchParams(h);
  const route = params.get('route') ?? '';
  return { token: nonEmpty(params.get('token')), route: route.startsWith('/') ? route : '' };
}

function nonEmpty(v: string | null): string | null {
  return v === null || v.trim() === '' ? null : v.trim();
}

/** The hash to put back in the address bar once the token has been taken out. */
export function hashWithoutToken(parts: HashParts): string {
  return parts.route ? `#${parts.route}` : '';
}
