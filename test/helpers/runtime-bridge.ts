/**
 * The product's runtime in this process, set up the way `lockbridge init` does it (initHome, then
 * createBridge on that home), an account put straight into its store (at a real provider, or a
 * placeholder nobody is asked when the bridge is offline), and a mail client's SMTP transport to
 * the bridge's submission server (STARTTLS required, the bridge's CA verified, AUTH; or, for a
 * submission server started without TLS, plaintext).
 */
import nodemailer from 'nodemailer';
import { createBridge, initHome, type Bridge, type BridgeOptions } from '../../app/index.ts';
import { LogRing } from '../../app/config/logging.ts';
import { silentLogger, type Logger } from '../../app/shared/logger.ts';
import type { Account } from '../../app/store/repos/accounts.ts';
import type { ProviderAccount } from './provider.ts';

export interface RuntimeBridgeOptions {
  home: string;
  passphrase: string;
  localPassword: string;
  /** silentLogger unless given */
  logger?: Logger;
  offline?: boolean;
  discovery?: BridgeOptions['discovery'];
}

/** initHome (with `localPassword`), then createBridge on that home; `caPem` is the bridge's local CA. */
export async function initBridge(o: RuntimeBridgeOptions): Promise<{ bridge: Bridge; caPem: string }> {
  const logger = o.logger ?? silentLogger;
  const { caPem } = await initHome({
    home: o.home,
    passphrase: o.passphrase,
    localPassword: o.localPassword,
    logger,
  });
  return { bridge: await openBridge(o), caPem };
}

/** createBridge on a home initHome made before (the bridge started again). */
export function openBridge(o: Omit<RuntimeBridgeOptions, 'localPassword'>): Promise<Bridge> {
  return createBridge({
    home: o.home,
    passphrase: o.passphrase,
    logger: o.logger ?? silentLogger,
    logs: new LogRing(),
    ...(o.offline ? { offline: true } : {}),
    ...(o.discovery ? { discovery: o.discovery } : {}),
  });
}

/**
 * `email`'s account in the bridge's store: at `provider` (its IMAP login and CA; SMTP on the same
 * host at `smtpPort`), or, without one, a placeholder at 127.0.0.1 port 1 that is never reached.
 */
export function addStoreAccount(
  bridge: Bridge,
  email: string,
  provider?: ProviderAccount,
  smtpPort = 1,
): Account {
  return bridge.store.accounts.create({
    email,
    imap: { host: provider?.host ?? '127.0.0.1', port: provider?.port ?? 1 },
    smtp: { host: provider?.host ?? '127.0.0.1', port: smtpPort },
    security: 'starttls',
    username: provider?.user ?? email,
    providerPassword: provider?.password ?? 'x',
    caPem: provider?.ca ?? null,
  });
}

/** A mail client's SMTP transport to the bridge on `port`: STARTTLS required, `caPem` trusted, AUTH. */
export function bridgeSmtp(port: number, caPem: string, user: string, pass: string) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    requireTLS: true,
    tls: { ca: [caPem], servername: 'localhost' },
    auth: { user, pass },
  });
}

/** A mail client's SMTP transport to a submission server on `port` that has no TLS: plaintext AUTH. */
export function plainSmtp(port: number, user: string, pass: string) {
  return nodemailer.createTransport({ host: '127.0.0.1', port, ignoreTLS: true, auth: { user, pass } });
}
