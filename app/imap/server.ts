/**
 * The local IMAP server: `startImapServer(options)` listens on 127.0.0.1 (port 1143 by default,
 * 0 = any free port), offers STARTTLS (or implicit TLS) from the given TLS material, and serves the
 * ImapBackend to each connection.
 */
import type { ForegroundWork } from '../shared/foreground.ts';
import { RecentClaims } from './recent.ts';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { SecureContext } from 'node:tls';
import type { ImapBackend } from './backend.ts';
import type { Logger } from '../shared/logger.ts';
import { silentLogger } from '../shared/logger.ts';
import { Connection } from './connection.ts';
import { LoginThrottle } from './throttle.ts';
import type { ThrottleOptions } from './throttle.ts';
import type { LiteralBudget, WireLimits } from './wire/limits.ts';

export interface ImapTlsOptions {
  /** PEM key + certificate chain, or a ready SecureContext. */
  key?: string | Buffer;
  cert?: string | Buffer;
  secureContext?: SecureContext;
}

export interface ImapServerOptions {
  backend: ImapBackend;
  logger?: Logger;
  /** Default 127.0.0.1. Only loopback addresses are accepted. */
  host?: string;
  /** Default 1143; 0 picks a free port. */
  port?: number;
  /** TLS material; without it neither STARTTLS nor implicit TLS is offered. */
  tls?: ImapTlsOptions | null;
  /** Speak TLS from the first byte (imaps) instead of offering STARTTLS. */
  implicitTls?: boolean;
  /** Allow LOGIN/AUTHENTICATE without TLS. Default false (then LOGINDISABLED before STARTTLS). */
  allowPlaintextLogin?: boolean;
  /** Advertise COMPRESS=DEFLATE. Default false (pointless CPU on loopback). */
  offerCompress?: boolean;
  /**
   * Simultaneous connections. Default 100. When full, a new connection takes the place of the
   * oldest unauthenticated one; only when every connection is logged in is it refused.
   */
  maxConnections?: number;
  /** Simultaneous unauthenticated connections (the oldest is closed for a new one). Default 20. */
  maxPreAuthConnections?: number;
  /** From connect to a successful login, however the client trickles bytes. Default 60 s. */
  authDeadlineMs?: number;
  /** Bytes of literals all connections together may be receiving. Default 256 MiB. */
  maxBufferedLiteralBytes?: number;
  /** Inactivity timeout, at least 30 minutes (RFC 2177 / RFC 3501 §5.4). Default 30 min. */
  idleTimeoutMs?: number;
  /** Inactivity timeout before login. Default 60 s. */
  preAuthTimeoutMs?: number;
  /** Longest APPEND message. Default 64 MiB. */
  maxMessageSize?: number;
  throttle?: ThrottleOptions;
  wireLimits?: Partial<WireLimits>;
  /** Held while a command is answered (IDLE excepted): background upkeep waits meanwhile. */
  foreground?: ForegroundWork;
}

export interface ImapServerHandle {
  readonly port: number;
  readonly host: string;
  /** Number of open connections. */
  readonly connections: number;
  /** Stop listening, say BYE to every client, and resolve when all sockets are closed. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const MIN_IDLE_MS = 30 * 60 * 1000;

export async function startImapServer(options: ImapServerOptions): Promise<ImapServerHandle> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host)) throw new Error(`IMAP server listens on loopback only, not ${host}`);
  const logger = (options.logger ?? silentLogger).child({ component: 'imap' });
  let secureContext: SecureContext | null = null;
  if (options.tls) {
    secureContext =
      options.tls.secureContext ??
      createSecureContext({ key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.2' });
  }
  if (options.implicitTls && !secureContext) throw new Error('implicit TLS needs TLS material');
  const idleTimeoutMs = Math.max(options.idleTimeoutMs ?? MIN_IDLE_MS, MIN_IDLE_MS);
  const maxConnections = options.maxConnections ?? 100;
  const throttle = new LoginThrottle(options.throttle);
  const config = {
    backend: options.backend,
    logger,
    allowPlaintextLogin: options.allowPlaintextLogin ?? false,
    tlsAvailable: secureContext !== null && !options.implicitTls,
    offerCompress: options.offerCompress ?? false,
    throttle,
    maxMessageSize: options.maxMessageSize ?? 64 * 1024 * 1024,
    recent: new RecentClaims(),
  };
  const maxPreAuth = Math.min(options.maxPreAuthConnections ?? 20, maxConnections);
  let budgetLeft = options.maxBufferedLiteralBytes ?? 256 * 1024 * 1024;
  const literalBudget: LiteralBudget = {
    take(bytes) {
      if (bytes > budgetLeft) return false;
      budgetLeft -= bytes;
      return true;
    },
    give(bytes) {
      budgetLeft += bytes;
    },
  };
  const conns = new Set<Connection>();
  const sockets = new Set<Socket>();

  /** Closes the oldest unauthenticated connection (a Set iterates in insertion order). */
  const evictOldestPreAuth = (): boolean => {
    for (const c of conns) {
      if (!c.authenticated) {
        logger.warn({ remote: c.remoteAddress }, 'IMAP: closing the oldest unauthenticated connection');
        c.shutdown('Too many unauthenticated connections.');
        conns.delete(c);
        return true;
      }
    }
    return false;
  };

  const server: Server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let preAuth = 0;
    for (const c of conns) if (!c.authenticated) preAuth++;
    if (preAuth >= maxPreAuth) evictOldestPreAuth();
    else if (conns.size >= maxConnections && !evictOldestPreAuth()) {
      socket.end('* BYE Too many connections.\r\n');
      return;
    }
    try {
      const conn = new Connection(
        socket,
        config,
        {
          secureContext,
          implicitTls: options.implicitTls ?? false,
          idleTimeoutMs,
          preAuthTimeoutMs: options.preAuthTimeoutMs ?? 60_000,
          authDeadlineMs: options.authDeadlineMs ?? 60_000,
          literalBudget,
          ...(options.wireLimits ? { wireLimits: options.wireLimits } : {}),
          ...(options.foreground ? { foreground: options.foreground } : {}),
        },
        () => conns.delete(conn),
      );
      conns.add(conn);
    } catch (err) {
      logger.error({ err }, 'IMAP connection setup failed');
      socket.destroy();
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 1143, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  logger.info(
    { host, port, tls: secureContext ? (options.implicitTls ? 'implicit' : 'starttls') : 'none' },
    'IMAP listening',
  );

  return {
    port,
    host,
    get connections() {
      return conns.size;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of [...conns]) c.shutdown();
      const deadline = Date.now() + 2000;
      while (sockets.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
