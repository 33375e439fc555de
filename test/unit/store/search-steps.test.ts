/**
 * Full-text search in steps (issue 20): one pass over the mailbox, answers equal to a naive filter
 * of the same messages whether they are indexed, queued or indexed between two steps, and messages
 * coming and going between steps neither lost nor found twice.
 */
import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import { analyzeMessage } from '../../../app/mime/analyze.ts';
import type { NewMessage, TextScope } from '../../../app/store/repos/messages.ts';
import { newStore, tempDir, testAccount } from './helpers.ts';

const WORDS = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike'.split(' ');

/** Message i: deterministic words, a planted "quartz<i % 7>" in every 13th body, a subject tag. */
function raw(i: number): Buffer {
  const w = (k: number): string => WORDS[(i * 31 + k * 17) % WORDS.length]!;
  const body: string[] = [];
  for (let l = 0; l < 6; l++) body.push(`${w(l)} ${w(l + 1)} ${w(l + 2)} line ${l} of ${i}`);
  if (i % 13 === 0) body.push(`planted quartz${i % 7} here`);
  return Buffer.from(
    `From: Sender ${i % 9} <s${i % 9}@example.org>\r\nTo: me@example.net\r\n` +
      `Subject: tag${i % 11} ${w(9)}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n` +
      `Message-ID: <m${i}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n` +
      body.join('\r\n') +
      '\r\n',
  );
}

/** The naive answer: the needle in the message's header block and/or body, case-insensitive. */
function naive(msgs: Map<number, Buffer>, needle: string, scope: TextScope): number[] {
  const out: number[] = [];
  const n = needle.toLowerCase();
  for (const [uid, r] of msgs) {
    const s = r.toString('utf8').toLowerCase();
    const split = s.indexOf('\r\n\r\n');
    const hay = scope === 'body' ? s.slice(split + 4) : scope === 'headers' ? s.slice(0, split) : s;
    if (hay.includes(n)) out.push(uid);
  }
  return out.sort((a, b) => a - b);
}

const NEEDLES: Array<[string, TextScope]> = [
  ['quartz3', 'text'],
  ['QUARTZ', 'body'],
  ['tag4', 'headers'],
  ['tag4', 'body'],
  ['sender 5', 'text'],
  ['lima mike', 'text'],
  ['of 12', 'body'],
  ['zz', 'text'],
  ['e', 'body'],
  ['no-such-word-anywhere', 'text'],
];

/** A store of its own with one INBOX; `add(from, to)` inserts raw(from..to-1) into it. */
async function inbox(dir: string, name: string) {
  const s = await newStore(`${dir}/${name}`);
  const box = s.mailboxes.create(testAccount(s, `${name}@example.org`).id, 'INBOX');
  const msgs = new Map<number, Buffer>();
  const add = (from: number, to: number): void => {
    const batch: NewMessage[] = [];
    for (let i = from; i < to; i++) {
      const r = raw(i);
      batch.push({ raw: r, analysis: analyzeMessage(r) });
    }
    s.messages.insertBatch(box.id, batch).forEach((m, k) => msgs.set(m.uid, batch[k]!.raw));
  };
  return { s, box, msgs, add };
}

describe('full-text search in steps', () => {
  const t = tempDir();
  after(t.cleanup);

  it('equals a naive filter indexed, queued, and indexed between steps; sees arrivals and expunges', async () => {
    const s = await newStore(t.dir);
    try {
      const acc = testAccount(s, 'steps@example.org');
      const box = s.mailboxes.create(acc.id, 'INBOX');
      const other = s.mailboxes.create(acc.id, 'Other');
      const msgs = new Map<number, Buffer>();
      const add = (from: number, to: number, mailbox = box.id): void => {
        const batch: NewMessage[] = [];
        for (let i = from; i < to; i++) {
          const r = raw(i);
          batch.push({ raw: r, analysis: analyzeMessage(r) });
        }
        const res = s.messages.insertBatch(mailbox, batch);
        if (mailbox === box.id) res.forEach((m, k) => msgs.set(m.uid, batch[k]!.raw));
      };
      add(0, 400);
      add(0, 200, other.id); // the same words in another mailbox: never answered for INBOX
      const all = (needle: string, scope: TextScope): number[] =>
        s.messages.searchText(box.id, needle, scope);
      const check = (when: string): void => {
        for (const [needle, scope] of NEEDLES)
          assert.deepEqual(all(needle, scope), naive(msgs, needle, scope), `${when}: ${scope} "${needle}"`);
      };
      check('all queued');
      s.messages.indexBatch(250);
      check('part indexed');
      s.flushIndex();
      add(400, 500); // queued again
      check('indexed and queued');

      // one step per message: the indexer and an expunge between steps
      let next = 500;
      let expungeUid = 450;
      for (const [needle, scope] of NEEDLES) {
        // walking every message, and (where the index names few) reading only the candidates
        for (const sparse of [false, true]) {
          const got: number[] = [];
          let turn = 0;
          const expected = naive(msgs, needle, scope).filter((u) => u !== expungeUid);
          for (const found of s.messages.searchTextSteps(box.id, needle, scope, [0, 0xffffffff], {
            stepMs: 0,
            sparse,
            sparseShare: 4, // (a small mailbox: read by UID up to a quarter of it)
          })) {
            assert.ok(Array.isArray(found), 'no work to wait for without `offload`');
            got.push(...found);
            turn++;
            if (turn === 5) s.messages.indexBatch(60); // moves queued messages into the index mid-search
            if (turn === 7) s.messages.remove(box.id, [expungeUid]);
          }
          if (!sparse) assert.ok(turn > msgs.size / 2, `stepped (${turn} steps)`);
          else assert.ok(turn >= expected.length, `stepped (${turn} steps for ${expected.length} found)`);
          // a needle the index names few messages for: only those (and the queued ones) are read
          if (sparse && ['quartz3', 'no-such-word-anywhere'].includes(needle))
            assert.ok(turn < msgs.size / 4, `only the candidates read (${turn} steps)`);
          assert.deepEqual(
            got,
            expected,
            `between steps (${sparse ? 'sparse' : 'walk'}): ${scope} "${needle}"`,
          );
        }
        // the next needle's search starts with the expunged message back (a new UID) and 20 queued
        msgs.delete(expungeUid);
        s.flushIndex();
        add(next, next + 20);
        next += 20;
        expungeUid = [...msgs.keys()].at(-30)!;
      }
      check('after the stepped searches');

      // a UID range and a filter: only what they take is answered
      const accept = (uid: number): boolean => uid % 2 === 0;
      const found = [
        ...s.messages.searchTextSteps(box.id, 'quartz', 'body', [100, 300], { accept, stepMs: 1 }),
      ].flat();
      assert.deepEqual(
        found,
        naive(msgs, 'quartz', 'body').filter((u) => u >= 100 && u <= 300 && accept(u)),
      );
    } finally {
      s.close();
    }
  });
  it('reads the index a window of ids at a time, a turn between windows, and misses nothing indexed meanwhile', async () => {
    const { s, box, msgs, add } = await inbox(t.dir, 'windows');
    try {
      add(0, 5_000);
      s.flushIndex();
      let next = 5_000;
      for (const [needle, scope] of [
        ['no-such-word-anywhere', 'text'],
        ['quartz3', 'body'],
        ['lima mike', 'text'],
      ] as Array<[string, TextScope]>) {
        const gone = [...msgs.keys()][100]!;
        const got: number[] = [];
        let turn = 0;
        for (const found of s.messages.searchTextSteps(box.id, needle, scope, [0, 0xffffffff], {
          stepMs: 0,
          firstWindow: 1_024, // (a small index: at least 5 windows)
        })) {
          assert.ok(Array.isArray(found));
          got.push(...found);
          turn++;
          if (turn === 2) {
            // while the index is read: new messages indexed, one expunged
            add(next, next + 30);
            s.flushIndex();
            s.messages.remove(box.id, [gone]);
          }
        }
        // 5,000 ids, a window of at most 1,024 of them a turn: at least 5 turns before any message
        // is read (one query for all of them gave one)
        if (needle === 'no-such-word-anywhere') assert.ok(turn >= 5 + 2, `${turn} steps`);
        msgs.delete(gone);
        next += 30;
        assert.deepEqual(got, naive(msgs, needle, scope), `${scope} "${needle}"`);
      }
    } finally {
      s.close();
    }
  });
  it('finds a queued message the indexer takes while the search reads the index', async () => {
    const { s, box, msgs, add } = await inbox(t.dir, 'taken');
    try {
      add(0, 3_000);
      s.flushIndex();
      add(3_003, 3_103); // queued when the search begins, the first taken holds "planted quartz0"
      for (const [needle, scope] of [
        ['planted quartz', 'text'],
        ['quartz3', 'body'],
      ] as Array<[string, TextScope]>) {
        const got: number[] = [];
        let turns = 0;
        for (const found of s.messages.searchTextSteps(box.id, needle, scope, [0, 0xffffffff], {
          stepMs: 0,
          firstWindow: 1_024,
          sparseShare: 4,
        })) {
          got.push(...(found as number[]));
          turns++;
          s.messages.indexBatch(3); // the indexer goes on between every two steps
        }
        assert.ok(turns > 4, `${turns} steps`);
        assert.deepEqual(got, naive(msgs, needle, scope), `${scope} "${needle}"`);
        add(3_100 + turns, 3_200 + turns); // queued for the next search
      }
    } finally {
      s.close();
    }
  });
});
