/**
 * OAuth 2.0 provider profiles as data: the endpoints, scopes and mail hosts Thunderbird
 * uses for the big providers (its OAuth2Providers module and ISPDB). Client ids and secrets are NOT
 * here: a distribution or a user supplies its own registration through the environment
 * (LOCKBRIDGE_OAUTH_<PROFILE>_CLIENT_ID / _CLIENT_SECRET) or the command line. No I/O.
 */
import type { Security } from './types.ts';

export interface MailHost {
  host: string;
  port: number;
  security: Security;
}

export interface OAuthProfile {
  id: string;
  name: string;
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  scopes: string[];
  /** Extra query parameters of the authorization request (e.g. Google's access_type=offline). */
  authorizationParams?: Record<string, string>;
  imap: MailHost;
  smtp: MailHost;
  /** Mail hosts (IMAP or SMTP, lower case) that belong to this profile: discovery maps a host here. */
  hosts: string[];
  /** Mail domains whose addresses are this provider's own (a first guess before discovery). */
  domains: string[];
}

export const OAUTH_PROFILES: readonly OAuthProfile[] = [
  {
    id: 'google',
    name: 'Google',
    issuer: 'https://accounts.google.com',
    authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenEndpoint: 'https://oauth2.googleapis.com/token',
    scopes: ['https://mail.google.com/'],
    // Google hands out a refresh token only with access_type=offline, and again only with consent.
    authorizationParams: { access_type: 'offline', prompt: 'consent' },
    imap: { host: 'imap.gmail.com', port: 993, security: 'tls' },
    smtp: { host: 'smtp.gmail.com', port: 465, security: 'tls' },
    hosts: ['imap.gmail.com', 'smtp.gmail.com', 'imap.googlemail.com', 'smtp.googlemail.com'],
    domains: ['gmail.com', 'googlemail.com'],
  },
  {
    id: 'microsoft',
    name: 'Microsoft',
    issuer: 'https://login.microsoftonline.com/common/v2.0',
    authorizationEndpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
    tokenEndpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
    scopes: [
      'https://outlook.office.com/IMAP.AccessAsUser.All',
      'https://outlook.office.com/SMTP.Send',
      'offline_access',
    ],
    imap: { host: 'outlook.office365.com', port: 993, security: 'tls' },
    smtp: { host: 'smtp.office365.com', port: 587, security: 'starttls' },
    hosts: ['outlook.office365.com', 'smtp.office365.com', 'smtp-mail.outlook.com', 'imap-mail.outlook.com'],
    domains: ['outlook.com', 'hotmail.com', 'live.com', 'msn.com'],
  },
  {
    id: 'yahoo',
    name: 'Yahoo',
    issuer: 'https://login.yahoo.com',
    authorizationEndpoint: 'https://api.login.yahoo.com/oauth2/request_auth',
    tokenEndpoint: 'https://api.login.yahoo.com/oauth2/get_token',
    scopes: ['mail-w'],
    imap: { host: 'imap.mail.yahoo.com', port: 993, security: 'tls' },
    smtp: { host: 'smtp.mail.yahoo.com', port: 465, security: 'tls' },
    hosts: ['imap.mail.yahoo.com', 'smtp.mail.yahoo.com'],
    domains: ['yahoo.com', 'ymail.com', 'rocketmail.com'],
  },
  {
    id: 'aol',
    name: 'AOL',
    issuer: 'https://login.aol.com',
    authorizationEndpoint: 'https://api.login.aol.com/oauth2/request_auth',
    tokenEndpoint: 'https://api.login.aol.com/oauth2/get_token',
    scopes: ['mail-w'],
    imap: { host: 'imap.aol.com', port: 993, security: 'tls' },
    smtp: { host: 'smtp.aol.com', port: 465, security: 'tls' },
    hosts: ['imap.aol.com', 'smtp.aol.com'],
    domains: ['aol.com'],
  },
  {
    id: 'fastmail',
    name: 'Fastmail',
    issuer: 'https://www.fastmail.com',
    authorizationEndpoint: 'https://api.fastmail.com/oauth/authorize',
    tokenEndpoint: 'https://api.fastmail.com/oauth/refresh',
    scopes: ['https://www.fastmail.com/dev/protocol-imap', 'https://www.fastmail.com/dev/protocol-smtp'],
    imap: { host: 'imap.fastmail.com', port: 993, security: 'tls' },
    smtp: { host: 'smtp.fastmail.com', port: 465, security: 'tls' },
    hosts: ['imap.fastmail.com', 'smtp.fastmail.com'],
    domains: ['fastmail.com', 'fastmail.fm'],
  },
];

export function findProfile(id: string): OAuthProfile | null {
  return OAUTH_PROFILES.find((p) => p.id === id.toLowerCase()) ?? null;
}

/** The profile a discovered mail host belongs to (autoconfig said OAuth2 for imap.gmail.com, ...). */
export function profileForHost(host: string): OAuthProfile | null {
  const h = host.toLowerCase().replace(/\.$/, '');
  return OAUTH_PROFILES.find((p) => p.hosts.includes(h)) ?? null;
}

/** The profile of an address's own domain (gmail.com → google), before any discovery. */
export function profileForEmail(email: string): OAuthProfile | null {
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return OAUTH_PROFILES.find((p) => p.domains.includes(domain)) ?? null;
}

export interface ClientRegistration {
  clientId: string;
  clientSecret: string | null;
}

/**
 * The client registration for a profile from the environment: LOCKBRIDGE_OAUTH_GOOGLE_CLIENT_ID and
 * LOCKBRIDGE_OAUTH_GOOGLE_CLIENT_SECRET (the secret is optional: PKCE public clients need none).
 */
export function registrationFromEnv(
  profileId: string,
  env: Record<string, string | undefined>,
): ClientRegistration | null {
  const key = `LOCKBRIDGE_OAUTH_${profileId.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  const clientId = env[`${key}_CLIENT_ID`]?.trim();
  if (!clientId) return null;
  const secret = env[`${key}_CLIENT_SECRET`]?.trim();
  return { clientId, clientSecret: secret ? secret : null };
}

export interface AuthorizationRequest {
  authorizationEndpoint: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string;
  codeChallenge: string;
  loginHint?: string;
  extra?: Record<string, string>;
}

/** The URL the browser opens (RFC 6749 4.1.1 with PKCE, RFC 7636 4.3). */
export function authorizationUrl(r: AuthorizationRequest): string {
  const u = new URL(r.authorizationEndpoint);
  const q = u.searchParams;
  q.set('response_type', 'code');
  q.set('client_id', r.clientId);
  q.set('redirect_uri', r.redirectUri);
  q.set('scope', r.scopes.join(' '));
  q.set('state', r.state);
  q.set('code_challenge', r.codeChallenge);
  q.set('code_challenge_method', 'S256');
  if (r.loginHint) q.set('login_hint', r.loginHint);
  for (const [k, v] of Object.entries(r.extra ?? {})) q.set(k, v);
  return u.toString();
}
