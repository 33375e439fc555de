/**
 * A small HTTPS GET for key discovery, over node:https. HTTPS only (redirects too), certificate
 * always verified. The DNS resolver, the trusted CAs and (for tests) the port to connect to are
 * injectable, so tests run real TLS servers on 127.0.0.1 with a test CA.
 */
import { request } from 'node:https';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export type Resolver = (host: string) => Promise<string>;

export interface HttpsClientOptions {
  /** host → IP address; default: the system resolver. */
  resolve?: Resolver;
  /** Trusted CA certificates (PEM); default: Node's bundled roots. */
  ca?: string | string[];
  /** Connect to this port when the URL has none (tests); default 443. */
  port?: number;
  /** Largest body accepted (default 1 MiB). */
  maxBytes?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

export interface HttpsResponse {
  url: string;
  status: number;
  contentType: string;
  body: Buffer;
}

export type FetchErrorKind =
  'dns' | 'connect' | 'tls' | 'timeout' | 'too-large' | 'protocol' | 'insecure-redirect';

export class FetchError extends Error {
  override name = 'FetchError';
  readonly kind: FetchErrorKind;
  constructor(kind: FetchErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}

const defaultResolve: Resolver = async (host) => (await dnsLookup(host)).address;

function classify(err: unknown): FetchError {
  if (err instanceof FetchError) return err;
  const e = err as NodeJS.ErrnoException & { name?: string };
  const code = e?.code ?? '';
  const msg = e?.message ?? String(err);
  if (e?.name === 'AbortError' || code === 'ABORT_ERR')
    return new FetchError('timeout', 'lookup timed out', { cause: err });
  if (code === 'ENOTFOUND' || code === 'ENODATA' || code === 'EAI_AGAIN' || code === 'ESERVFAIL')
    return new FetchError('dns', `DNS: ${code}`, { cause: err });
  if (/CERT|SSL|TLS|self.signed|unable to verify|altname|UNABLE_TO|DEPTH_ZERO/i.test(code + ' ' + msg))
    return new FetchError('tls', `TLS: ${code || msg}`, { cause: err });
  if (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'EHOSTUNREACH' ||
    code === 'ENETUNREACH' ||
    code === 'ETIMEDOUT' ||
    code === 'EPIPE'
  )
    return new FetchError('connect', `connection: ${code}`, { cause: err });
  return new FetchError('protocol', msg, { cause: err });
}

function once(
  url: URL,
  opts: HttpsClientOptions,
  signal: AbortSignal,
): Promise<{ status: number; contentType: string; location: string | null; body: Buffer }> {
  const resolve = opts.resolve ?? defaultResolve;
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  return new Promise((done, fail) => {
    if (signal.aborted) {
      fail(new FetchError('timeout', 'lookup timed out'));
      return;
    }
    const host = url.hostname;
    const req = request(
      {
        protocol: 'https:',
        host,
        servername: isIP(host) ? undefined : host,
        port: url.port ? Number(url.port) : (opts.port ?? 443),
        path: url.pathname + url.search,
        method: 'GET',
        agent: false,
        ca: opts.ca,
        rejectUnauthorized: true,
        signal,
        headers: {
          'user-agent': 'Lockbridge',
          accept: 'application/octet-stream, application/pgp-keys, */*;q=0.5',
          ...(opts.headers ?? {}),
        },
        lookup: (hostname, options, cb) => {
          resolve(hostname).then(
            (address) => {
              const family = isIP(address) === 6 ? 6 : 4;
              if ((options as { all?: boolean }).all)
                (cb as (e: null, a: { address: string; family: number }[]) => void)(null, [
                  { address, family },
                ]);
              else (cb as (e: null, a: string, f: number) => void)(null, address, family);
            },
            (err: unknown) => (cb as (e: unknown) => void)(err),
          );
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            req.destroy(new FetchError('too-large', `response larger than ${maxBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () =>
          done({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? '').toLowerCase(),
            location: typeof res.headers.location === 'string' ? res.headers.location : null,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', (err) => fail(classify(err)));
      },
    );
    req.on('error', (err) => fail(classify(err)));
    req.end();
  });
}

/** GET over HTTPS following up to 3 HTTPS-only redirects. Non-2xx statuses are returned, not thrown. */
export async function httpsGet(
  url: string,
  opts: HttpsClientOptions,
  signal: AbortSignal,
): Promise<HttpsResponse> {
  let current = new URL(url);
  for (let hop = 0; hop <= 3; hop++) {
    if (current.protocol !== 'https:')
      throw new FetchError('insecure-redirect', `refusing non-HTTPS URL ${current.protocol}`);
    const r = await once(current, opts, signal);
    if ([301, 302, 303, 307, 308].includes(r.status) && r.location) {
      current = new URL(r.location, current);
      continue;
    }
    return { url: current.toString(), status: r.status, contentType: r.contentType, body: r.body };
  }
  throw new FetchError('protocol', 'too many redirects');
}
