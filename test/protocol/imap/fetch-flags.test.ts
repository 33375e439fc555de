/**
 * FETCH of UID / FLAGS / MODSEQ only (issue 20: `UID FETCH 1:* (FLAGS)` ≤ 1 s at 1,000,000
 * messages) is read as columns (ImapAccount.fetchFlags) and written without an object per message.
 * Its answers must be the generic FETCH path's, byte for byte: two servers over two encrypted
 * stores get the same seeded mailbox and the same random commands — one with the column read, one
 * with `fetchFlags` hidden (the rows read with `fetch`) — and every FETCH of the observing session
 * must be answered alike, untagged updates included: random flags and keywords (announced before
 * the first row that carries them), \Recent, the observer's own STORE, another session's STORE,
 * APPEND and EXPUNGE not yet told (ghosts in the view), UID and message-number sets, dense and
 * sparse, CHANGEDSINCE, VANISHED (EARLIER). Then the loop stays free while a big folder's flags are
 * fetched.
 */
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeMessage } from '../../../app/mime/analyze.ts';
import type { ImapAccount, ImapBackend } from '../../../app/imap/backend.ts';
import { startImapServer } from '../../../app/imap/server.ts';
import type { ImapServerHandle } from '../../../app/imap/server.ts';
import { createImapBackend } from '../../../app/control/adapters/imap-backend.ts';
import type { StoreImapBackend } from '../../../app/control/adapters/imap-backend.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import type { Store } from '../../../app/store/store.ts';
import type { NewMessage } from '../../../app/store/repos/messages.ts';
import { assertLoop, measureLoop } from '../../helpers/event-loop.ts';
import { prng } from '../../helpers/imap-consistency.ts';
import { ImapTestClient, PASS, USER, message } from '../../helpers/imap-transcript.ts';
import { seeded, type Seeded } from '../../helpers/seeded.ts';
import { addLocalAccount, newStore, tempDir } from '../../unit/store/helpers.ts';

/** Messages in the mailbox at the start: more than one batch of fetchFlags (4,096). */
const INITIAL = 5000;
const STEPS = 250;
const FLAGS = [
  '\\Seen',
  '\\Answered',
  '\\Flagged',
  '\\Deleted',
  '\\Draft',
  '$Label1',
  '$label2',
  'Work',
  '$Junk',
];

interface World {
  store: Store;
  backend: StoreImapBackend;
  server: ImapServerHandle;
  observer: ImapTestClient;
  other: ImapTestClient;
  /** Appends without a mailbox selected: a new message is recent in the first session told. */
  deliverer: ImapTestClient;
  close(): Promise<void>;
}

/** The account as the server sees it, without `fetchFlags`: FETCH reads rows with `fetch`. */
function withoutFetchFlags(backend: ImapBackend): ImapBackend {
  return {
    async authenticate(user, pass) {
      const account = await backend.authenticate(user, pass);
      if (!account) return null;
      return new Proxy(account, {
        get(target, key) {
          if (key === 'fetchFlags') return undefined;
          const v = Reflect.get(target, key, target) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      }) as ImapAccount;
    },
  };
}

function randomFlags(r: Seeded): string[] {
  return FLAGS.filter(() => r.int(4) === 0);
}

async function login(port: number): Promise<ImapTestClient> {
  const c = await ImapTestClient.connect(port);
  assert.match((await c.cmd(`L LOGIN ${USER} ${PASS}`)).at(-1)!, /^L OK /);
  return c;
}

/** A store with INITIAL messages (the same in every world: flags from `seed`), served. */
async function world(dir: string, seed: number, lean: boolean): Promise<World> {
  const store = await newStore(dir);
  addLocalAccount(store, USER, PASS);
  const backend = createImapBackend(store, { logger: silentLogger });
  const account = (await backend.authenticate(USER, PASS))!;
  const inbox = Number(account.getMailbox('INBOX')!.id);
  // the same draws in both worlds, apart from the test's own seeded choices
  const flagsOf = prng(seed);
  for (let i = 0; i < INITIAL; i += 1000) {
    const batch: NewMessage[] = [];
    for (let j = i; j < Math.min(INITIAL, i + 1000); j++) {
      const raw = Buffer.from(message({ subject: `m${j}`, messageId: `<m${j}@example.test>` }));
      batch.push({
        raw,
        analysis: analyzeMessage(raw),
        flags: FLAGS.filter(() => flagsOf() < 0.2),
        internalDate: Date.UTC(2026, 0, 1),
      });
    }
    store.messages.insertBatch(inbox, batch);
  }
  const server = await startImapServer({
    backend: lean ? backend : withoutFetchFlags(backend),
    logger: silentLogger,
    port: 0,
    allowPlaintextLogin: true,
  });
  const observer = await login(server.port);
  const other = await login(server.port);
  const deliverer = await login(server.port);
  return {
    store,
    backend,
    server,
    observer,
    other,
    deliverer,
    async close() {
      observer.close();
      other.close();
      deliverer.close();
      await server.close();
      backend.dispose();
      store.close();
    },
  };
}

/** A random sequence set over 1..max: whole, ranges, single numbers, `*`. */
function randomSet(r: Seeded, max: number): string {
  switch (r.int(5)) {
    case 0:
      return '1:*';
    case 1: {
      const a = 1 + r.int(max);
      return `${a}:${r.int(2) ? '*' : 1 + r.int(max)}`;
    }
    default: {
      const parts: string[] = [];
      for (let k = 1 + r.int(6); k > 0; k--) {
        const a = 1 + r.int(max);
        parts.push(r.int(2) ? String(a) : `${a}:${Math.min(max, a + r.int(300))}`);
      }
      return parts.join(',');
    }
  }
}

const lean = tempDir('lb-fetch-flags-lean-');
const generic = tempDir('lb-fetch-flags-generic-');
let worlds: World[] = [];

after(async () => {
  for (const w of worlds) await w.close();
  lean.cleanup();
  generic.cleanup();
});

it('FETCH of UID / FLAGS / MODSEQ read as columns answers byte for byte what the row read answers', async () => {
  const r = seeded();
  await r.report(async () => {
    worlds = [await world(lean.dir, r.seed, true), await world(generic.dir, r.seed, false)];
    /** Sends `line` to the same session of both worlds; returns both answers. */
    const both = async (who: 'observer' | 'other' | 'deliverer', line: string): Promise<string[][]> =>
      Promise.all(worlds.map((w) => w[who].cmd(line, 30_000)));
    const same = async (line: string): Promise<string[]> => {
      const [a, b] = await both('observer', line);
      const i = a!.findIndex((l, k) => l !== b![k]);
      if (i >= 0 || a!.length !== b!.length)
        assert.fail(
          `the answers to ${line} differ at line ${i < 0 ? b!.length : i}:\n  columns: ${a![i] ?? '(none)'}\n  rows:    ${b![i] ?? '(none)'}`,
        );
      console.log(
        line.slice(0, 70),
        a!.length,
        a!.filter((l) => l.includes('Recent')).length,
        a!.filter((l) => l.startsWith('* FLAGS')).length,
        a!.filter((l) => / EXISTS| RECENT|Recent/.test(l)).join(),
      );
      return a!;
    };
    // the observer speaks IMAP4rev1 (it has \Recent): the first SELECT after the server starts
    // claims nothing; what is appended later is recent in the first session told of it
    await both('observer', 's0 SELECT INBOX'); // UIDVALIDITY and MAILBOXID differ
    await same('f0 UID FETCH 1:* (UID FLAGS)'); // Thunderbird's flag resync: the keywords announced
    // the other session speaks IMAP4rev2: it claims nothing, what is appended is recent in the observer
    await both('other', 'o0 ENABLE IMAP4rev2');
    await both('other', 'o1 SELECT INBOX');
    let exists = INITIAL;
    let uidNext = INITIAL + 1;
    let modseq = 1;
    let n = 0;
    for (let step = 0; step < STEPS; step++) {
      const tag = `t${++n}`;
      const k = r.int(20);
      if (k < 3) {
        // a session appends (recent in the first of the others told of it)
        const count = 1 + r.int(5);
        for (let i = 0; i < count; i++) {
          const raw = message({ subject: `new ${n}.${i}`, messageId: `<n${n}.${i}@example.test>` });
          const [a] = await both(
            'other',
            `${tag}a${i} APPEND INBOX (${randomFlags(r).join(' ')}) {${raw.length}+}\r\n${raw}`,
          );
          assert.match(a!.at(-1)!, / OK /);
        }
        uidNext += count;
      } else if (k < 8) {
        // another session changes flags (queued in the observer as updates not yet told)
        const op = ['+FLAGS', '-FLAGS', 'FLAGS'][r.int(3)]!;
        await both('other', `${tag} UID STORE ${randomSet(r, uidNext)} ${op} (${randomFlags(r).join(' ')})`);
      } else if (k < 10) {
        // another session expunges: a ghost in the observer's view until it is told
        // (UID EXPUNGE of a few: \Deleted is one of the random flags, EXPUNGE would take them all)
        const uids: number[] = [];
        for (let i = 1 + r.int(8); i > 0; i--) uids.push(1 + r.int(uidNext));
        await both('other', `${tag}d UID STORE ${uids.join(',')} +FLAGS.SILENT (\\Deleted)`);
        await both('other', `${tag}x UID EXPUNGE ${uids.join(',')}`);
      } else if (k < 12) {
        // the observer's own STORE (told, or silent)
        const silent = r.int(2) ? '.SILENT' : '';
        await same(`${tag} STORE ${randomSet(r, exists)} +FLAGS${silent} (${randomFlags(r).join(' ')})`);
      } else if (k < 13) {
        if (r.int(2)) await same(`${tag} NOOP`);
        else await both('other', `${tag} NOOP`);
      } else {
        // the FETCH compared: UID or message numbers, items in any order (repeats too)
        const byUid = r.int(3) > 0;
        const names = ['UID', 'FLAGS', 'MODSEQ'];
        const items: string[] = [];
        for (let i = 1 + r.int(3); i > 0; i--) items.push(names[r.int(names.length)]!);
        if (r.int(6) === 0) items.push(items[0]!);
        let mods = '';
        if (r.int(4) === 0) {
          const since = r.int(2) ? modseq : r.int(modseq + 1);
          mods = byUid && r.int(3) === 0 ? ` (CHANGEDSINCE ${since} VANISHED)` : ` (CHANGEDSINCE ${since})`;
        }
        if (mods.includes('VANISHED')) await same(`${tag}q ENABLE QRESYNC`);
        const set = randomSet(r, byUid ? uidNext : exists);
        const a = await same(`${tag} ${byUid ? 'UID ' : ''}FETCH ${set} (${items.join(' ')})${mods}`);
        assert.match(a.at(-1)!, new RegExp(`^${tag} (OK|BAD) `));
      }
      // what the observer was told: the view's size and the highest modseq it saw
      for (const line of worlds[0]!.observer.log.splice(0)) {
        const e = /^\* (\d+) EXISTS$/.exec(line);
        if (e) exists = Number(e[1]);
        const m = /MODSEQ \((\d+)\)/.exec(line) ?? /HIGHESTMODSEQ (\d+)/.exec(line);
        if (m) modseq = Math.max(modseq, Number(m[1]));
        if (/^\* \d+ EXPUNGE$/.test(line)) exists--;
        const v = /^\* VANISHED ([\d:,]+)$/.exec(line);
        if (v)
          for (const part of v[1]!.split(','))
            exists -= part.includes(':') ? Number(part.split(':')[1]) - Number(part.split(':')[0]) + 1 : 1;
      }
      worlds[1]!.observer.log.length = 0;
    }
  });
});

it('a FLAGS fetch of a big folder leaves the event loop free', async () => {
  const t = tempDir('lb-fetch-flags-loop-');
  const store = await newStore(t.dir);
  addLocalAccount(store, USER, PASS);
  const backend = createImapBackend(store, { logger: silentLogger });
  const server = await startImapServer({ backend, logger: silentLogger, port: 0, allowPlaintextLogin: true });
  try {
    const account = (await backend.authenticate(USER, PASS))!;
    const inbox = Number(account.getMailbox('INBOX')!.id);
    const raw = Buffer.from(message({}));
    const analysis = analyzeMessage(raw);
    const N = 50_000;
    for (let i = 0; i < N; i += 5000) {
      const batch: NewMessage[] = [];
      for (let j = i; j < i + 5000; j++) batch.push({ raw, analysis, flags: j % 3 ? ['\\Seen'] : [] });
      store.messages.insertBatch(inbox, batch);
    }
    const c = await login(server.port);
    await c.cmd('s SELECT INBOX');
    const loop = await measureLoop(() => c.cmd('f UID FETCH 1:* (FLAGS)', 60_000));
    assert.equal(loop.value.length, N + 1);
    assert.equal(loop.value[N - 1], `* ${N} FETCH (UID ${N} FLAGS (\\Seen))`);
    assertLoop(loop, `UID FETCH 1:* (FLAGS) of ${N} messages`);
    c.close();
  } finally {
    await server.close();
    backend.dispose();
    store.close();
    t.cleanup();
  }
});
