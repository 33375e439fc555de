// Shared setup for the sync integration tests: a provider user, a fresh encrypted store with an
// account pointing at it, and an engine (fast polling, small batches).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../../app/store/store.ts';
import { newStore } from '../../unit/store/helpers.ts';
import { silentLogger, type Logger } from '../../../app/shared/logger.ts';
import { createSyncEngine, type SyncEngine, type SyncEngineOptions } from '../../../app/sync/engine.ts';
import { connectProvider } from '../../../app/sync/remote/connect.ts';
import type { Bridge } from '../../../app/index.ts';
import { startProvider, type Provider } from '../../helpers/provider.ts';
import { initBridge } from '../../helpers/runtime-bridge.ts';

/** LB_SYNC_DEBUG=1 prints the engine's log lines (debugging a failing test). */
function debugLogger(b: Record<string, unknown> = {}): Logger {
  const line = (lvl: string) => (o: object, m?: string) =>
    console.error(new Date().toISOString().slice(11, 23), lvl, m ?? '', JSON.stringify({ ...b, ...o }));
  return {
    debug: line('D'),
    info: line('I'),
    warn: line('W'),
    error: line('E'),
    child: (x) => debugLogger({ ...b, ...x }),
  };
}
export const testLogger: Logger = process.env.LB_SYNC_DEBUG ? debugLogger() : silentLogger;

export interface LocalSide {
  dir: string;
  store: Store;
  accountId: number;
  engine(opts?: Partial<SyncEngineOptions>): SyncEngine;
  close(): Promise<void>;
}

/**
 * `via`: the engine talks to the provider through this port in plaintext (a fault proxy in front of
 * the provider's IMAP port) instead of the provider's STARTTLS port.
 */
export async function localFor(
  p: Provider,
  email: string,
  dir?: string,
  via?: { port: number },
): Promise<LocalSide> {
  const home = dir ?? mkdtempSync(join(tmpdir(), 'lb-sync-'));
  // kill-child.ts and sigkill.test.ts open it again with this passphrase
  const store = await newStore(home, { passphrase: 'test' });
  const acc = p.account(email);
  const account = store.accounts.create({
    email,
    imap: { host: acc.host, port: via?.port ?? acc.port },
    smtp: { host: acc.host, port: p.smtpPort || 25 },
    security: via ? 'none' : 'starttls',
    providerPassword: acc.password,
    caPem: acc.ca,
  });
  const engines: SyncEngine[] = [];
  return {
    dir: home,
    store,
    accountId: account.id,
    engine(opts = {}) {
      const e = createSyncEngine({
        store,
        accountId: account.id,
        logger: testLogger,
        connect: connectProvider,
        pollIntervalMs: 500,
        batchMessages: 50,
        ...opts,
      });
      engines.push(e);
      return e;
    },
    async close() {
      for (const e of engines) await e.stop();
      store.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface BridgeSide {
  p: Provider;
  bridge: Bridge;
  imapPort: number;
  /** Adds the provider account through the control API (STARTTLS, the provider's CA). */
  addAccount(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real Dovecot/Postfix provider with the user `email`, and the product's whole bridge in this
 * process (initHome, createBridge, serve: IMAP and SMTP on free ports, no control server) in a
 * fresh home; the account is added when the caller says so, after filling the provider if it likes.
 */
export async function bridgeWithProvider(
  email: string,
  opts: { providerPassword: string; passphrase: string; localPassword?: string },
): Promise<BridgeSide> {
  const home = mkdtempSync(join(tmpdir(), 'lb-bridge-'));
  const p = await startProvider();
  await p.addUser(email, opts.providerPassword);
  const localPassword = opts.localPassword ?? 'local-pw';
  const { bridge } = await initBridge({ home, passphrase: opts.passphrase, localPassword });
  const { imap } = await bridge.serve({ imapPort: 0, smtpPort: 0, control: false });
  return {
    p,
    bridge,
    imapPort: imap,
    async addAccount() {
      await bridge.api.addAccount({
        email,
        imap: { host: '127.0.0.1', port: p.imapPort },
        smtp: { host: '127.0.0.1', port: p.smtpPort },
        security: 'starttls',
        password: opts.providerPassword,
        caPem: p.caPem,
      });
    },
    async close() {
      await bridge.close();
      await p.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

let messageSeq = 0;

/** A plain message numbered n (its Date is n seconds into 2026); every call a new Message-ID. */
export function msg(
  n: number,
  opts: { subject?: string; body?: string; from?: string; to?: string; date?: Date } = {},
): string {
  const date = (opts.date ?? new Date(Date.UTC(2026, 0, 1, 0, 0, n))).toUTCString().replace('GMT', '+0000');
  return (
    `From: ${opts.from ?? 'Sender <sender@outside.test>'}\r\n` +
    `To: ${opts.to ?? 'alice@example.test'}\r\n` +
    `Subject: ${opts.subject ?? `message ${n}`}\r\n` +
    `Date: ${date}\r\n` +
    `Message-ID: <m${n}.${++messageSeq}@outside.test>\r\n` +
    `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n` +
    `${opts.body ?? `body of message ${n}`}\r\n`
  );
}

/** Local mailbox name → sorted subjects. */
export function localSubjects(store: Store, accountId: number, mailbox: string): string[] {
  const mb = store.mailboxes.getByName(accountId, mailbox);
  if (!mb) return [];
  const out: string[] = [];
  for (const m of store.messages.iterateMeta(mb.id))
    out.push(store.messages.headers(m.blobId)?.subject ?? '');
  return out.sort();
}

export async function remoteSubjects(p: Provider, user: string, mailbox: string): Promise<string[]> {
  const c = await p.imapClient(user);
  try {
    const lock = await c.getMailboxLock(mailbox);
    try {
      const out: string[] = [];
      if (c.mailbox && c.mailbox.exists)
        for await (const m of c.fetch('1:*', { envelope: true })) out.push(m.envelope?.subject ?? '');
      return out.sort();
    } finally {
      lock.release();
    }
  } finally {
    await c.logout();
  }
}

export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Evicts bodies from the store's body cache (its budget 0, a step at a time) until `done` says
 * enough are; the budget is put back after.
 */
export function evictBodies(store: Store, done: () => boolean, what: string): Promise<void> {
  const cache = store.messages.bodyCache;
  cache.setBudget(0);
  return until(
    () => {
      cache.evictStep(1000);
      return done();
    },
    60_000,
    what,
  ).finally(() => cache.setBudget(null));
}
