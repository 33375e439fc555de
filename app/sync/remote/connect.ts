/**
 * The real provider connector (the composition root hands it to the sync engine): imapflow behind
 * RemoteMailbox, certificate verification always on (a private CA is added to the system roots,
 * never replaces the check), STARTTLS required when asked for (no silent plaintext), connect
 * errors classified into ProviderError.
 */
import { rootCertificates } from 'node:tls';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import type { Logger } from '../../shared/logger.ts';
import type { ProviderEndpoint } from './endpoint.ts';
import { classifyProviderError } from './errors.ts';
import { ImapflowMailbox } from './imapflow-mailbox.ts';
import { SOCKET_TIMEOUT_MS } from './liveness.ts';
import type { RemoteMailbox } from './remote-mailbox.ts';

export interface ConnectOptions {
  logger?: Logger;
  /** TCP connect + greeting deadline (ms). */
  connectTimeoutMs?: number;
  /** Idle socket deadline (ms). */
  socketTimeoutMs?: number;
  /** Gives the attempt up (the connection closed, the promise rejected) when it aborts. */
  signal?: AbortSignal;
}

export function imapOptions(ep: ProviderEndpoint, opts: ConnectOptions = {}): ImapFlowOptions {
  const tls = {
    rejectUnauthorized: true,
    ...(ep.caPem ? { ca: [...rootCertificates, ep.caPem] } : {}),
  };
  return {
    host: ep.host,
    port: ep.port,
    secure: ep.security === 'tls',
    doSTARTTLS: ep.security === 'starttls' ? true : ep.security === 'none' ? false : undefined,
    tls,
    // imapflow picks OAUTHBEARER when the server offers it, else XOAUTH2
    auth: ep.accessToken
      ? { user: ep.username, accessToken: ep.accessToken }
      : { user: ep.username, pass: ep.password },
    logger: false,
    emitLogs: false,
    disableAutoIdle: true,
    qresync: true,
    connectionTimeout: opts.connectTimeoutMs ?? 20000,
    greetingTimeout: opts.connectTimeoutMs ?? 20000,
    // imapflow's default (10 min) left a silently dead connection looking alive: see liveness.ts.
    socketTimeout: opts.socketTimeoutMs ?? SOCKET_TIMEOUT_MS,
    clientInfo: { name: 'Lockbridge' },
  } as ImapFlowOptions;
}

/** Connects and logs in; throws ProviderError. The caller owns the client (logout/close). */
export async function connectProvider(
  ep: ProviderEndpoint,
  opts: ConnectOptions = {},
): Promise<RemoteMailbox> {
  const client = new ImapFlow(imapOptions(ep, opts));
  // imapflow re-emits socket errors; an unhandled 'error' event would crash the process.
  client.on('error', (err: unknown) => {
    opts.logger?.debug({ err }, 'provider connection error');
  });
  const giveUp = () => client.close();
  opts.signal?.addEventListener('abort', giveUp, { once: true });
  try {
    opts.signal?.throwIfAborted();
    await client.connect();
    opts.signal?.throwIfAborted();
  } catch (err) {
    client.close();
    throw classifyProviderError(err, ep);
  } finally {
    opts.signal?.removeEventListener('abort', giveUp);
  }
  return new ImapflowMailbox(client);
}
