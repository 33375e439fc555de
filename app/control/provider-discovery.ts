/**
 * Finds a provider's IMAP/SMTP settings for an e-mail address, in Thunderbird's order: RFC 6186
 * (+ RFC 8314) SRV records, then the provider's autoconfig file (clientConfig format), then
 * Thunderbird's ISPDB, then a guess from host names that exist (imap./smtp./mail.DOMAIN with
 * implicit TLS, RFC 8314) — labelled a guess for the user to check. The DNS resolver and the HTTP
 * fetcher are injectable so tests serve SRV/A answers and autoconfig files from loopback.
 */
import { Resolver } from 'node:dns/promises';
import type { ProviderSuggestion, SecurityMode } from './contract.ts';
import { profileForHost } from '../oauth/core/profiles.ts';

export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

export interface DiscoveryDeps {
  resolveSrv?: (name: string) => Promise<SrvRecord[]>;
  /** True when the host name has an address (A or AAAA). */
  hostExists?: (name: string) => Promise<boolean>;
  fetchText?: (url: string, signal: AbortSignal) => Promise<string | null>;
  timeoutMs?: number;
  /** Base URLs for autoconfig; `{domain}` and `{email}` are replaced. */
  autoconfigUrls?: string[];
}

const DEFAULT_AUTOCONFIG = [
  'https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={email}',
  'https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress={email}',
  // Thunderbird's database of providers (what Thunderbird itself asks next)
  'https://autoconfig.thunderbird.net/v1.1/{domain}',
];

function srvResolver(servers?: string[]): (name: string) => Promise<SrvRecord[]> {
  return (name) => {
    const r = new Resolver({ timeout: 3000, tries: 1 });
    if (servers?.length) r.setServers(servers);
    return r.resolveSrv(name);
  };
}

const defaultResolveSrv = srvResolver();

function hostResolver(servers?: string[]): (name: string) => Promise<boolean> {
  return async (name) => {
    const r = new Resolver({ timeout: 3000, tries: 1 });
    if (servers?.length) r.setServers(servers);
    const has = (p: Promise<string[]>) => p.then((a) => a.length > 0).catch(() => false);
    const [v4, v6] = await Promise.all([has(r.resolve4(name)), has(r.resolve6(name))]);
    return v4 || v6;
  };
}

const defaultHostExists = hostResolver();

/** The usual host names, where they exist: the user is told it is a guess to check. */
async function guess(
  domain: string,
  hostExists: (name: string) => Promise<boolean>,
): Promise<ProviderSuggestion | null> {
  // all names at once (a resolver timeout is paid once, not per name), each asked once; the
  // first in order wins
  const asked = new Map<string, Promise<boolean>>();
  const exists = (n: string): Promise<boolean> => {
    let p = asked.get(n);
    if (!p) asked.set(n, (p = hostExists(n)));
    return p;
  };
  const first = async (names: string[]): Promise<string | null> => {
    const found = await Promise.all(names.map(exists));
    return names[found.indexOf(true)] ?? null;
  };
  const [imap, smtp] = await Promise.all([
    first([`imap.${domain}`, `mail.${domain}`]),
    first([`smtp.${domain}`, `mail.${domain}`]),
  ]);
  if (!imap || !smtp) return null;
  return {
    source: 'guess',
    imap: { host: imap, port: 993 },
    smtp: { host: smtp, port: 465 },
    security: 'tls',
  };
}

/** Plain http is accepted from this machine only (a local autoconfig server, tests). */
function trustedUrl(u: string): boolean {
  try {
    const url = new URL(u);
    if (url.protocol === 'https:') return true;
    return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  } catch {
    return false;
  }
}

async function defaultFetchText(url: string, signal: AbortSignal): Promise<string | null> {
  if (!trustedUrl(url)) return null;
  const res = await fetch(url, { signal, redirect: 'follow' });
  if (!res.ok || !trustedUrl(res.url)) return null;
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('text/html')) return null;
  return res.text();
}

async function bestSrv(
  deps: Required<Pick<DiscoveryDeps, 'resolveSrv'>>,
  name: string,
): Promise<SrvRecord | null> {
  try {
    const recs = (await deps.resolveSrv(name)).filter((r) => r.name && r.name !== '.' && r.port > 0);
    recs.sort((a, b) => a.priority - b.priority || b.weight - a.weight);
    return recs[0] ?? null;
  } catch {
    return null;
  }
}

async function fromSrv(
  domain: string,
  deps: Required<Pick<DiscoveryDeps, 'resolveSrv'>>,
): Promise<ProviderSuggestion | null> {
  const [imaps, imap, submissions, submission] = await Promise.all([
    bestSrv(deps, `_imaps._tcp.${domain}`),
    bestSrv(deps, `_imap._tcp.${domain}`),
    bestSrv(deps, `_submissions._tcp.${domain}`),
    bestSrv(deps, `_submission._tcp.${domain}`),
  ]);
  const inbound = imaps ?? imap;
  const outbound = submissions ?? submission;
  if (!inbound || !outbound) return null;
  const security: SecurityMode = imaps ? 'tls' : 'starttls';
  return {
    source: 'srv',
    imap: { host: inbound.name.replace(/\.$/, ''), port: inbound.port },
    smtp: { host: outbound.name.replace(/\.$/, ''), port: outbound.port },
    security,
  };
}

function tag(xml: string, name: string): string | null {
  const m = new RegExp(`<${name}>\\s*([^<]*?)\\s*</${name}>`, 'i').exec(xml);
  return m ? (m[1] as string) : null;
}

/** Parses the first IMAP incoming and SMTP outgoing server of a clientConfig document. */
export function parseAutoconfig(xml: string, email: string): ProviderSuggestion | null {
  const inbound = /<incomingServer\s+type="imap"\s*>([\s\S]*?)<\/incomingServer>/i.exec(xml)?.[1];
  const outbound = /<outgoingServer\s+type="smtp"\s*>([\s\S]*?)<\/outgoingServer>/i.exec(xml)?.[1];
  if (!inbound || !outbound) return null;
  const host = (s: string) => tag(s, 'hostname');
  const port = (s: string) => Number(tag(s, 'port'));
  const sec = (s: string): SecurityMode => {
    const t = (tag(s, 'socketType') ?? '').toUpperCase();
    return t === 'SSL' ? 'tls' : t === 'STARTTLS' ? 'starttls' : 'none';
  };
  const ih = host(inbound);
  const oh = host(outbound);
  if (!ih || !oh || !(port(inbound) > 0) || !(port(outbound) > 0)) return null;
  const [local, domain] = email.split('@') as [string, string];
  const user = (tag(inbound, 'username') ?? '%EMAILADDRESS%')
    .replace('%EMAILADDRESS%', email)
    .replace('%EMAILLOCALPART%', local)
    .replace('%EMAILDOMAIN%', domain);
  // Thunderbird's ISPDB and providers' own files say OAuth2 where a password no longer works
  const oauthOffered = [...inbound.matchAll(/<authentication>\s*([^<]*?)\s*<\/authentication>/gi)].some(
    (m) => (m[1] as string).toLowerCase() === 'oauth2',
  );
  const profile = oauthOffered ? profileForHost(ih) : null;
  return {
    source: 'autoconfig',
    imap: { host: ih, port: port(inbound) },
    smtp: { host: oh, port: port(outbound) },
    security: sec(inbound),
    username: user,
    ...(profile ? { oauth: profile.id, oauthName: profile.name } : {}),
  };
}

/**
 * Discovery settings from the environment: LOCKBRIDGE_DNS_SERVERS (space-separated `IP[:PORT]`,
 * the resolvers asked for SRV and address records) and LOCKBRIDGE_AUTOCONFIG_URLS (space-separated URL
 * templates with {domain} and {email}, tried in order instead of the provider's own).
 */
export function discoveryDepsFromEnv(env: NodeJS.ProcessEnv = process.env): DiscoveryDeps {
  const deps: DiscoveryDeps = {};
  const servers = (env.LOCKBRIDGE_DNS_SERVERS ?? '').split(/\s+/).filter(Boolean);
  if (servers.length) {
    deps.resolveSrv = srvResolver(servers);
    deps.hostExists = hostResolver(servers);
  }
  const urls = (env.LOCKBRIDGE_AUTOCONFIG_URLS ?? '').split(/\s+/).filter(Boolean);
  if (urls.length) deps.autoconfigUrls = urls;
  return deps;
}

/**
 * A resolver asking the LOCKBRIDGE_DNS_SERVERS resolvers (for the recipient-domain check), or
 * undefined to use the system's.
 */
export function domainResolverFromEnv(env: NodeJS.ProcessEnv = process.env): Resolver | undefined {
  const servers = (env.LOCKBRIDGE_DNS_SERVERS ?? '').split(/\s+/).filter(Boolean);
  if (!servers.length) return undefined;
  const r = new Resolver({ timeout: 3000, tries: 1 });
  r.setServers(servers);
  return r;
}

export async function discoverProviderSettings(
  email: string,
  deps: DiscoveryDeps,
): Promise<ProviderSuggestion | null> {
  const domain = email.split('@')[1]?.toLowerCase();
  if (!domain) return null;
  const resolveSrv = deps.resolveSrv ?? defaultResolveSrv;
  const fetchText = deps.fetchText ?? defaultFetchText;
  const timeout = AbortSignal.timeout(deps.timeoutMs ?? 5000);
  const srv = await fromSrv(domain, { resolveSrv });
  if (srv) return srv;
  for (const template of deps.autoconfigUrls ?? DEFAULT_AUTOCONFIG) {
    const url = template.replace('{domain}', domain).replace('{email}', encodeURIComponent(email));
    try {
      const xml = await fetchText(url, timeout);
      const found = xml ? parseAutoconfig(xml, email) : null;
      if (found) return found;
    } catch {
      /* next source */
    }
    if (timeout.aborted) break;
  }
  return guess(domain, deps.hostExists ?? defaultHostExists);
}
