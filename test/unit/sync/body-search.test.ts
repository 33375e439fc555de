// Issue 20 point 3: searching evicted bodies at the provider (app/sync/body-search.ts) against a
// scripted provider connection — what Dovecot in body-cache-search.test.ts does not show at a
// glance: each provider command names at most SEARCH_UIDS messages, what is not plaintext at the
// provider is never searched there (decrypted here, or a sealed Content-Type there), unmapped mail
// is counted, after a provider error the rest is counted without another command, and once the
// client that searches has gone away the provider is not asked again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeMessage } from '../../../app/mime/analyze.ts';
import { SEARCH_UIDS, searchAtProvider, type OnConnection } from '../../../app/sync/body-search.ts';
import type { SyncContext } from '../../../app/sync/context.ts';
import type { RemoteMailbox, RemoteMessage } from '../../../app/sync/remote/remote-mailbox.ts';
import type { Store } from '../../../app/store/store.ts';
import { makeRaw, newStore, tempDir, testAccount } from '../store/helpers.ts';

const N = 2 * SEARCH_UIDS + 101;
/** local UIDs by what they are */
const DECRYPTED = 5; // says X-Lockbridge-Encryption: encrypted
const SEALED = 7; // the provider's copy is application/pkcs7-mime
const UNMAPPED = 9; // not at the provider

interface Sent {
  command: 'fetch' | 'search';
  uids: number[];
}

function expand(set: string): number[] {
  return set.split(',').flatMap((r) => {
    const [a, b] = r.split(':').map(Number) as [number, number?];
    return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}

async function withStore(fn: (store: Store, mailboxId: number) => Promise<void>): Promise<void> {
  const t = tempDir();
  const store = await newStore(t.dir);
  try {
    const acc = testAccount(store, 'search@example.org');
    const inbox = store.mailboxes.create(acc.id, 'INBOX').id;
    for (let i = 1; i <= N; i++) {
      let raw = makeRaw({ subject: `m${i}`, body: `body ${i}` });
      if (i === DECRYPTED) raw = Buffer.concat([Buffer.from('X-Lockbridge-Encryption: encrypted\r\n'), raw]);
      store.messages.insert(
        inbox,
        {
          raw,
          analysis: analyzeMessage(raw),
          ...(i === UNMAPPED ? {} : { remote: { remoteMailbox: 'INBOX', uidvalidity: 3, uid: 1000 + i } }),
        },
        'sync',
      );
    }
    await fn(store, inbox);
  } finally {
    store.close();
    t.cleanup();
  }
}

/** A provider whose INBOX (UIDVALIDITY 3) holds every mapped message; every 10th matches. */
function provider(sent: Sent[], failAtSearch = Infinity): RemoteMailbox {
  let searches = 0;
  return {
    selected: { path: 'INBOX', readOnly: true, uidValidity: 3, uidNext: 9999, highestModseq: 0, exists: N },
    lock: async () => ({ release: () => {} }),
    async *fetch(set: string): AsyncIterable<RemoteMessage> {
      const uids = expand(set);
      sent.push({ command: 'fetch', uids });
      for (const uid of uids)
        yield { uid, contentType: uid === 1000 + SEALED ? 'application/pkcs7-mime' : 'text/plain' };
    },
    async searchText(set: string, key: string, needle: string): Promise<number[]> {
      assert.equal(key, 'body');
      assert.equal(needle, 'zq');
      const uids = expand(set);
      sent.push({ command: 'search', uids });
      if (++searches >= failAtSearch) throw new Error('connection reset');
      return uids.filter((u) => u % 10 === 0);
    },
  } as unknown as RemoteMailbox;
}

function ctxOf(store: Store): SyncContext {
  return { store } as SyncContext;
}

const direct =
  (client: RemoteMailbox): OnConnection =>
  (work) =>
    work(client);

test('each provider command names at most SEARCH_UIDS messages; only plaintext at the provider is searched', () =>
  withStore(async (store, inbox) => {
    const sent: Sent[] = [];
    const all = Array.from({ length: N }, (_, i) => i + 1);
    const errors: unknown[] = [];
    const r = await searchAtProvider(
      ctxOf(store),
      direct(provider(sent)),
      inbox,
      'body',
      'zq',
      all,
      () => true,
      (e) => errors.push(e),
    );
    assert.deepEqual(errors, []);
    for (const s of sent) assert.ok(s.uids.length <= SEARCH_UIDS, `${s.command} of ${s.uids.length} UIDs`);
    assert.equal(sent.filter((s) => s.command === 'search').length, 3);
    const searched = new Set(sent.filter((s) => s.command === 'search').flatMap((s) => s.uids));
    for (const i of [DECRYPTED, SEALED, UNMAPPED])
      assert.equal(searched.has(1000 + i), false, `local ${i} not searched at the provider`);
    assert.deepEqual(
      r.found.sort((a, b) => a - b),
      all.filter((u) => u % 10 === 0),
    );
    assert.deepEqual(
      r.failed.sort((a, b) => a - b),
      [DECRYPTED, SEALED, UNMAPPED],
    );
  }));

test('after a provider error the messages not searched yet are counted, without another command', () =>
  withStore(async (store, inbox) => {
    const sent: Sent[] = [];
    const all = Array.from({ length: N }, (_, i) => i + 1);
    const errors: unknown[] = [];
    const r = await searchAtProvider(
      ctxOf(store),
      direct(provider(sent, 2)),
      inbox,
      'body',
      'zq',
      all,
      () => true,
      (e) => errors.push(e),
    );
    assert.equal(errors.length, 1);
    assert.equal(sent.filter((s) => s.command === 'search').length, 2);
    // the first SEARCH_UIDS were decided; the rest could not be searched
    const first = all.slice(0, SEARCH_UIDS);
    assert.deepEqual(
      r.found.sort((a, b) => a - b),
      first.filter((u) => u % 10 === 0),
    );
    assert.deepEqual(
      r.failed.sort((a, b) => a - b),
      [DECRYPTED, SEALED, UNMAPPED, ...all.slice(SEARCH_UIDS)],
    );
  }));

// A SEARCH the client gave up (its connection closed) stops asking the provider: a 1-2 character
// needle over hundreds of thousands of evicted messages is thousands of provider commands that
// would hold the on-demand connection (bodies other clients wait for) for nobody. The old code
// searched every slice.
test('once the client is gone the provider is not asked again; the rest is counted', () =>
  withStore(async (store, inbox) => {
    const sent: Sent[] = [];
    const all = Array.from({ length: N }, (_, i) => i + 1);
    const errors: unknown[] = [];
    // the client goes away while the first slice is being searched
    const alive = () => !sent.some((s) => s.command === 'search');
    const r = await searchAtProvider(
      ctxOf(store),
      direct(provider(sent)),
      inbox,
      'body',
      'zq',
      all,
      alive,
      (e) => errors.push(e),
    );
    assert.deepEqual(errors, []);
    assert.equal(sent.filter((s) => s.command === 'search').length, 1, 'one provider SEARCH');
    assert.equal(sent.length, 2, 'and the Content-Type FETCH before it');
    const first = all.slice(0, SEARCH_UIDS);
    assert.deepEqual(
      r.found.sort((a, b) => a - b),
      first.filter((u) => u % 10 === 0),
    );
    assert.deepEqual(
      r.failed.sort((a, b) => a - b),
      [DECRYPTED, SEALED, UNMAPPED, ...all.slice(SEARCH_UIDS)],
    );
  }));
