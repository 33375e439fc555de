// Issue 20 point 3: full-text SEARCH over messages whose bodies the local body cache evicted. The
// index decides most of them; those it cannot decide — a needle shorter than 3 characters (no
// trigram), a needle beyond the first MiB of text it holds — are asked of the provider's SEARCH on
// the sync engine's on-demand connection, for mail that is plaintext at the provider; what still
// cannot be searched (offline, encrypted at the provider) is left out and counted in the tagged OK.
// The old code answered every such message as not matching, silently. Real Dovecot behind the fault
// proxy, the real engine and the bridge's IMAP server on one store.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startProvider, type Provider } from '../../helpers/provider.ts';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.ts';
import { ImapTestClient } from '../../helpers/imap-transcript.ts';
import { evictBodies, localFor, msg, until, type LocalSide } from './setup.ts';
import { seeded } from '../../helpers/seeded.ts';
import { randomBase64 } from '../../helpers/big-mail.ts';
import { serveStore, type ServedStore } from '../../helpers/imap-store-server.ts';
import type { ProcessInbound } from '../../../app/sync/types.ts';

const alice = 'alice@example.test';
const random = seeded();
let p: Provider;
let proxy: FaultProxy;
let local: LocalSide;
let served: ServedStore;
/** local UID by subject */
const uid = new Map<string, number>();
/** the provider's UID of the message encrypted there */
let sealedRemote = 0;
/** a needle of 2 characters (no trigram; `!` is not in the base64 noise of the big one) */
const SHORT = 'z!';
/** a needle after 1.2 MiB of text: beyond what the index holds */
const FAR = 'far-xyzzy-word';

/**
 * Stands in for decryption: the provider's copy of "sealed" holds only ciphertext; the message
 * stored and served here holds SHORT, and says it was decrypted.
 */
const fakeDecrypt: ProcessInbound = async (raw) => {
  const s = raw.toString('latin1');
  if (!s.includes('Subject: sealed')) return { served: raw };
  const head = s.slice(0, s.indexOf('\r\n\r\n'));
  return {
    served: Buffer.from(
      `X-Lockbridge-Encryption: encrypted\r\n${head}\r\n\r\ndecrypted text with ${SHORT} in it\r\n`,
      'latin1',
    ),
  };
};

function inbox(): number {
  return local.store.mailboxes.getByName(local.accountId, 'INBOX')!.id;
}

function evicted(subject: string): boolean {
  return local.store.messages.bodyEvicted(local.store.messages.get(inbox(), uid.get(subject)!)!.blobId);
}

before(async () => {
  p = await startProvider({ postfix: false });
  await p.addUser(alice, 'pw');
  await p.appendRaw(alice, 'INBOX', msg(1, { subject: 'small', body: `the code is ${SHORT} here` }));
  await p.appendRaw(alice, 'INBOX', msg(2, { subject: 'other', body: 'nothing to see' }));
  // one text part of 1.2 MiB: FAR lies beyond the first MiB the index reads
  const noise = randomBase64(random, 900_000).replace(/(.{76})/g, '$1\r\n');
  await p.appendRaw(alice, 'INBOX', msg(3, { subject: 'big', body: `${noise}\r\n${FAR}` }));
  await p.appendRaw(alice, 'INBOX', msg(4, { subject: 'sealed', body: 'BEGIN CIPHERTEXT qwertyuiop' }));
  proxy = await startFaultProxy(p.imapPort);
  local = await localFor(p, alice, undefined, { port: proxy.port });
  local.store.credentials.set('local-pw');
  const engine = local.engine({ idle: false, onDemandSilenceMs: 5000, processInbound: fakeDecrypt });
  served = await serveStore(local.store, engine);
  engine.start();
  await engine.whenSynced(60_000);
  local.store.flushIndex();
  for (const m of local.store.messages.iterateMeta(inbox()))
    uid.set(local.store.messages.headers(m.blobId)!.subject!, m.uid);
  assert.equal(uid.size, 4);
  sealedRemote = local.store.remoteMap.forMessage(
    local.store.messages.get(inbox(), uid.get('sealed')!)!.id,
  )!.remoteUid;
  await evictBodies(local.store, () => [...uid.keys()].every(evicted), 'the bodies evicted');
});

after(async () => {
  await served?.close();
  await local?.close();
  await proxy?.close();
  await p?.close();
});

async function session(): Promise<ImapTestClient> {
  const c = await ImapTestClient.connect(served.server.port);
  assert.match((await c.cmd(`l LOGIN ${alice} local-pw`)).at(-1)!, /^l OK/);
  assert.match((await c.cmd('s SELECT INBOX')).at(-1)!, /^s OK/);
  return c;
}

/** The UIDs of a `* SEARCH` line, sorted. */
function searched(lines: string[]): number[] {
  const line = lines.find((l) => l.startsWith('* SEARCH'));
  assert.ok(line, lines.join('\n'));
  return line
    .slice('* SEARCH'.length)
    .trim()
    .split(' ')
    .filter(Boolean)
    .map(Number)
    .sort((a, b) => a - b);
}

/** Whether a UID set (`1:3,7`) names `n`. */
function names(set: string, n: number): boolean {
  return set.split(',').some((r) => {
    const [a, b] = r.split(':').map(Number) as [number, number?];
    return b === undefined ? a === n : n >= Math.min(a, b) && n <= Math.max(a, b);
  });
}

test('a 2-character needle finds an evicted plaintext message through the provider; the encrypted one is counted, not asked', async () => {
  const sent: string[] = [];
  proxy.onClientLine((l) => void (/ UID SEARCH /i.test(l) && sent.push(l)));
  const c = await session();
  try {
    const lines = await c.cmd(`a UID SEARCH BODY "${SHORT}"`);
    assert.deepEqual(searched(lines), [uid.get('small')]);
    assert.equal(
      lines.at(-1),
      'a OK UID Search completed (1 message could not be searched: its body is not stored here and the provider cannot search it)',
    );
    // one provider SEARCH, not naming the message encrypted there
    assert.equal(sent.length, 1, sent.join('\n'));
    const set = /UID SEARCH (?:CHARSET \S+ )?UID (\S+) BODY/i.exec(sent[0]!)?.[1];
    assert.ok(set, sent[0]);
    assert.equal(names(set, sealedRemote), false, `the encrypted message is not asked: ${sent[0]}`);
    // ESEARCH too, and TEXT
    const es = await c.cmd(`b UID SEARCH RETURN (ALL COUNT) TEXT "${SHORT}"`);
    assert.match(
      es.find((l) => l.startsWith('* ESEARCH'))!,
      new RegExp(`COUNT 1 ALL ${uid.get('small')}$`),
    );
    assert.match(es.at(-1)!, /^b OK UID Search completed \(1 message could not be searched/);
    // NOT of an undecided message is undecided as well: left out and counted
    const not = await c.cmd(`n UID SEARCH NOT BODY "${SHORT}"`);
    assert.deepEqual(
      searched(not),
      [uid.get('other'), uid.get('big')].sort((a, b) => a! - b!),
    );
    assert.match(not.at(-1)!, /\(1 message could not be searched/);
  } finally {
    proxy.onClientLine(null);
    await c.cmd('z LOGOUT');
  }
});

test('a needle beyond the indexed first MiB of a big evicted message is found through the provider', async () => {
  const c = await session();
  const lines = await c.cmd(`a UID SEARCH BODY ${FAR}`);
  assert.deepEqual(searched(lines), [uid.get('big')]);
  // the others were decided locally (small messages the index holds whole)
  assert.equal(lines.at(-1), 'a OK UID Search completed.');
  await c.cmd('z LOGOUT');
});

test('provider down: the SEARCH answers OK with what could not be searched, and the session goes on', async () => {
  const c = await session();
  await p.stopDovecot();
  try {
    const lines = await c.cmd(`a UID SEARCH BODY "${SHORT}"`, 60_000);
    assert.deepEqual(searched(lines), []);
    assert.equal(
      lines.at(-1),
      'a OK UID Search completed (4 messages could not be searched: their bodies are not stored here and the provider cannot search them)',
    );
    assert.match((await c.cmd('n NOOP')).at(-1)!, /^n OK/);
    assert.match((await c.cmd('f UID FETCH 1:* (FLAGS)')).at(-1)!, /^f OK/);
  } finally {
    await p.startDovecot();
  }
  // back: found again (the on-demand connection is opened anew)
  await until(
    async () => searched(await c.cmd(`b UID SEARCH BODY "${SHORT}"`, 60_000)).length === 1,
    60_000,
    'found once the provider is back',
  );
  await c.cmd('z LOGOUT');
});
