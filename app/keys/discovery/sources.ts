/**
 * The network key sources: WKD (advanced, then direct), VKS (keys.openpgp.org by e-mail) and HKP
 * (op=get by e-mail). Each returns the best usable key for the address or a miss with a reason.
 */
import type * as openpgp from 'openpgp';
import { splitAddress } from '../address.ts';
import { acceptKeyBody } from './accept.ts';
import { FetchError, type HttpsClientOptions, httpsGet } from './https-get.ts';
import { wkdAdvancedUrl, wkdDirectUrl } from './wkd-url.ts';

export type SourceResult =
  | { found: true; key: openpgp.PublicKey; url: string }
  | { found: false; reason: string; timedOut: boolean; unusable?: openpgp.PublicKey[] };

export interface SourceContext {
  http: HttpsClientOptions;
  signal: AbortSignal;
  at: Date;
}

function newest(keys: openpgp.PublicKey[]): openpgp.PublicKey {
  return [...keys].sort((a, b) => b.getCreationTime().getTime() - a.getCreationTime().getTime())[0]!;
}

async function fetchKey(
  url: string,
  email: string,
  ctx: SourceContext,
  extraHeaders?: Record<string, string>,
): Promise<SourceResult> {
  try {
    const http = extraHeaders
      ? { ...ctx.http, headers: { ...(ctx.http.headers ?? {}), ...extraHeaders } }
      : ctx.http;
    const r = await httpsGet(url, http, ctx.signal);
    if (r.status === 404 || r.status === 410)
      return { found: false, reason: `${r.status} not found`, timedOut: false };
    if (r.status < 200 || r.status >= 300)
      return { found: false, reason: `HTTP ${r.status}`, timedOut: false };
    const acc = await acceptKeyBody(r.body, r.contentType, email, ctx.at);
    if (!acc.ok) return { found: false, reason: acc.reason, timedOut: false, unusable: acc.unusable };
    return { found: true, key: newest(acc.keys), url: r.url };
  } catch (err) {
    if (err instanceof FetchError)
      return { found: false, reason: err.message, timedOut: err.kind === 'timeout' };
    return { found: false, reason: err instanceof Error ? err.message : String(err), timedOut: false };
  }
}

/** Thunderbird-style request blurring (standards 4.8): anonymous Basic auth, padding header. */
const WKD_HEADERS = { authorization: 'Basic bm8tdXNlcjo=' };

/** WKD: the advanced method, then the direct one whenever advanced yields no key (except on timeout). */
export async function lookupWkd(
  email: string,
  ctx: SourceContext,
): Promise<SourceResult & { method?: 'advanced' | 'direct' }> {
  const adv = await fetchKey(wkdAdvancedUrl(email), email, ctx, WKD_HEADERS);
  if (adv.found) return { ...adv, method: 'advanced' };
  if (adv.timedOut) return adv;
  const dir = await fetchKey(wkdDirectUrl(email), email, ctx, WKD_HEADERS);
  if (dir.found) return { ...dir, method: 'direct' };
  if (dir.timedOut) return dir;
  const unusable = [...(adv.found ? [] : (adv.unusable ?? [])), ...(dir.unusable ?? [])];
  return {
    found: false,
    reason: `advanced: ${adv.reason}; direct: ${dir.reason}`,
    timedOut: false,
    unusable,
  };
}

/** VKS (Hagrid) by e-mail: GET <base>/vks/v1/by-email/<address>. */
export async function lookupVks(email: string, baseUrl: string, ctx: SourceContext): Promise<SourceResult> {
  return fetchKey(`${baseUrl.replace(/\/+$/, '')}/vks/v1/by-email/${encodeURIComponent(email)}`, email, ctx);
}

/** HKP: GET <base>/pks/lookup?op=get&options=mr&search=<address>. */
export async function lookupHkp(email: string, baseUrl: string, ctx: SourceContext): Promise<SourceResult> {
  return fetchKey(
    `${baseUrl.replace(/\/+$/, '')}/pks/lookup?op=get&options=mr&search=${encodeURIComponent(email)}`,
    email,
    ctx,
  );
}

/** Large freemail providers that do not run WKD (as Thunderbird skips them). */
export const WKD_SKIP_DOMAINS = [
  'gmail.com',
  'googlemail.com',
  'outlook.com',
  'hotmail.com',
  'live.com',
  'yahoo.com',
  'aol.com',
  'icloud.com',
  'me.com',
  'gmx.net',
  'gmx.de',
  'web.de',
];

export function wkdApplies(email: string, skip: readonly string[]): boolean {
  return !skip.includes(splitAddress(email).domain);
}
