/** `lockbridge account add` checks the provider login with this before saving anything. */
import { isIP } from 'node:net';
import nodemailer from 'nodemailer';
import type { Logger } from '../../shared/logger.ts';
import { connectProvider } from './connect.ts';
import type { ProviderEndpoint } from './endpoint.ts';
import { classifyProviderError } from './errors.ts';

export interface VerifiedLogin {
  capabilities: string[];
  /** Folder names with their special use, as the provider lists them. */
  folders: Array<{ path: string; specialUse: string | null }>;
}

/**
 * Connects, logs in, lists folders and logs out. Throws ProviderError with kind 'auth' (wrong
 * password), 'tls' (certificate / no STARTTLS), 'unreachable' (refused, unknown host), 'timeout'.
 */
export async function verifyProviderLogin(
  ep: ProviderEndpoint,
  opts: { logger?: Logger; timeoutMs?: number } = {},
): Promise<VerifiedLogin> {
  const client = await connectProvider(ep, {
    ...(opts.logger ? { logger: opts.logger } : {}),
    connectTimeoutMs: opts.timeoutMs ?? 15000,
    socketTimeoutMs: opts.timeoutMs ?? 15000,
  });
  try {
    const list = await client.list();
    return {
      capabilities: client.capabilityNames(),
      folders: list.map((m) => ({ path: m.path, specialUse: m.specialUse ?? null })),
    };
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/**
 * Connects to the provider's SMTP server (the way the outbox relay does), logs in and quits: an
 * account whose SMTP side cannot work is refused at `account add`, with the same one-line
 * ProviderError kinds as the IMAP check.
 */
export async function verifySmtpLogin(
  ep: ProviderEndpoint,
  opts: { timeoutMs?: number } = {},
): Promise<void> {
  const timeout = opts.timeoutMs ?? 15000;
  const transport = nodemailer.createTransport({
    host: ep.host,
    port: ep.port,
    secure: ep.security === 'tls',
    requireTLS: ep.security === 'starttls',
    ignoreTLS: ep.security === 'none',
    auth: ep.accessToken
      ? { type: 'OAuth2' as const, user: ep.username, accessToken: ep.accessToken }
      : { user: ep.username, pass: ep.password },
    tls: {
      rejectUnauthorized: true,
      ...(isIP(ep.host) ? {} : { servername: ep.host }),
      ...(ep.caPem ? { ca: ep.caPem } : {}),
    },
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    name: 'localhost',
  });
  try {
    await transport.verify();
  } catch (err) {
    throw classifyProviderError(err, { ...ep, protocol: 'SMTP' });
  } finally {
    transport.close();
  }
}
