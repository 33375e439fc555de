/**
 * The local IMAP server over a real encrypted store (the control layer's ImapBackend adapter), for
 * protocol tests that need what only the store does: its schema, persistence across a restart; and,
 * with the account's sync engine, for the sync tests and benchmarks of bodies fetched on demand.
 */
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { createImapBackend } from '../../app/control/adapters/imap-backend.ts';
import type { StoreImapBackend } from '../../app/control/adapters/imap-backend.ts';
import { startImapServer } from '../../app/imap/server.ts';
import type { ImapServerHandle } from '../../app/imap/server.ts';
import { silentLogger } from '../../app/shared/logger.ts';
import type { Store } from '../../app/store/store.ts';
import type { SyncEngine } from '../../app/sync/engine.ts';
import { addLocalAccount, newStore, reopen, tempDir } from '../unit/store/helpers.ts';
import { ImapTestClient, PASS, USER, startTestServer } from './imap-transcript.ts';

export interface ServedStore {
  backend: StoreImapBackend;
  server: ImapServerHandle;
  /** Stops the server and disposes of the backend (the store stays open). */
  close(): Promise<void>;
}

/**
 * The bridge's IMAP server on `store` (a free port, plaintext login allowed); with `engine`, a body
 * evicted from the body cache is fetched back through that account's sync engine and served as soon
 * as it is checked (readBodies), and a full-text search the index cannot decide for such a message
 * asks the provider through it (searchBodies); the runtime does the same through its SyncManager.
 */
export async function serveStore(store: Store, engine?: SyncEngine): Promise<ServedStore> {
  const backend = createImapBackend(store, {
    logger: silentLogger,
    ...(engine
      ? {
          fetchBodies: (_account: number, mailboxId: number, uids: readonly number[]) =>
            engine.readBodies(mailboxId, uids),
          searchBodies: (
            _account: number,
            mailboxId: number,
            field: 'body' | 'text',
            needle: string,
            uids: readonly number[],
            alive: () => boolean,
          ) => engine.searchBodies(mailboxId, field, needle, uids, alive),
        }
      : {}),
  });
  const server = await startImapServer({ backend, logger: silentLogger, port: 0, allowPlaintextLogin: true });
  return {
    backend,
    server,
    async close() {
      await server.close();
      backend.dispose();
    },
  };
}

/** An imapflow client (not connected yet) of a server from serveStore: plaintext on loopback, `user`'s login. */
export function plainImapFlow(port: number, user: string, pass: string): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: false,
    doSTARTTLS: false,
    auth: { user, pass },
    logger: false,
  });
}

export interface StoreServer {
  store: Store;
  backend: StoreImapBackend;
  server: ImapServerHandle;
  /** Connect and log in as USER. */
  login(): Promise<ImapTestClient>;
  /** Stop the server and close the store (the data directory stays). */
  close(): Promise<void>;
}

/** A server on the store in `dir`: created with USER's account, or reopened when `reopenStore`. */
export async function startStoreServer(dir: string, reopenStore = false): Promise<StoreServer> {
  const store = reopenStore ? await reopen(dir) : await newStore(dir);
  if (!reopenStore) {
    addLocalAccount(store, USER, PASS);
  }
  const served = await serveStore(store);
  return {
    store,
    backend: served.backend,
    server: served.server,
    async login() {
      const c = await ImapTestClient.connect(served.server.port);
      const r = await c.cmd(`L LOGIN ${USER} ${PASS}`);
      assert.match(r[r.length - 1]!, /^L OK /);
      return c;
    },
    async close() {
      await served.close();
      store.close();
    },
  };
}

/** Runs `fn` with a logged-in client of `s`, then closes the client and the server. */
async function onServer<T>(
  s: { login(): Promise<ImapTestClient>; close(): Promise<void> },
  fn: (c: ImapTestClient) => Promise<T>,
): Promise<T> {
  try {
    const c = await s.login();
    const out = await fn(c);
    c.close();
    return out;
  } finally {
    await s.close();
  }
}

/** Runs `fn` with a logged-in client of the in-memory reference server (closed afterwards). */
export async function onReferenceServer<T>(fn: (c: ImapTestClient) => Promise<T>): Promise<T> {
  return onServer(await startTestServer(), fn);
}

/** Runs `fn` with a logged-in client of a server on a new encrypted store (removed afterwards). */
export async function onNewStoreServer<T>(prefix: string, fn: (c: ImapTestClient) => Promise<T>): Promise<T> {
  const t = tempDir(prefix);
  try {
    return await onServer(await startStoreServer(t.dir), fn);
  } finally {
    t.cleanup();
  }
}
