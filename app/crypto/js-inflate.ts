/**
 * Sequoia (sq) pads compressed data packets by default ("--compression pad"): bytes follow the end
 * of the deflate stream. Node's DecompressionStream rejects them ("trailing junk"), so openpgp.js
 * fails; GnuPG, Sequoia and openpgp.js's own JS inflater (fflate) stop at the end of the stream.
 * openpgp.js uses that JS inflater when constructing a DecompressionStream throws a TypeError:
 * withJsInflate runs `fn` so. Only used to retry a message that failed that way (the native
 * inflater stays the fast path).
 */
type DecompressionCtor = typeof globalThis.DecompressionStream;

class NoNativeInflate {
  constructor() {
    throw new TypeError('JS inflater requested');
  }
}

let depth = 0;
let saved: DecompressionCtor | undefined;

export async function withJsInflate<T>(fn: () => Promise<T>): Promise<T> {
  if (depth++ === 0) {
    saved = globalThis.DecompressionStream;
    globalThis.DecompressionStream = NoNativeInflate as unknown as DecompressionCtor;
  }
  try {
    return await fn();
  } finally {
    if (--depth === 0 && saved) globalThis.DecompressionStream = saved;
  }
}

export function isTrailingJunkError(err: unknown): boolean {
  return /trailing junk/i.test((err as Error)?.message ?? '');
}
