/**
 * SEARCH at scale (issue 20; issue 14: no request blocks the event loop for more than 200 ms).
 * Over the encrypted store with 30,000 messages in one folder, fully indexed: one session's
 * `UID SEARCH TEXT` for a phrase no message holds — its trigrams are in every message, so the index
 * narrows little — runs while another session's NOOPs are answered; the event loop's longest delay
 * stays within the bound (the search used to ask the index per 256 UIDs, each query reading the
 * whole index: 30k messages took minutes, in turns of hundreds of ms). Then SEARCH TEXT, BODY and
 * SUBJECT answers equal a naive filter of the same generated messages.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeMessage } from '../../../app/mime/analyze.ts';
import type { NewMessage } from '../../../app/store/repos/messages.ts';
import { assertLoop, measureLoop } from '../../helpers/event-loop.ts';
import { startStoreServer } from '../../helpers/imap-store-server.ts';
import { PASS, USER } from '../../helpers/imap-transcript.ts';
import { tempDir } from '../../unit/store/helpers.ts';

const N = 30_000;
const WORDS = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike'.split(' ');
/** Every word of it is in every message, never in this order. */
const MISSING = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike alpha';

/** Message i: a permutation of WORDS per line, "quartz<i % 5>" planted in every 1,000th body. */
function raw(i: number): Buffer {
  const lines: string[] = [];
  for (let l = 0; l < 8; l++) {
    const k = (i * 7 + l * 3) % WORDS.length;
    // every word once per line (13 is prime), never "alpha bravo" (a step of 2 to 11)
    const step = 2 + ((i + l) % 10);
    const line: string[] = [];
    for (let j = 0; j < WORDS.length; j++) line.push(WORDS[(k + j * step) % WORDS.length]!);
    lines.push(line.join(' '));
  }
  if (i % 1000 === 7) lines.push(`planted quartz${i % 5} here`);
  return Buffer.from(
    `From: Sender ${i % 40} <s${i % 40}@example.org>\r\nTo: me@example.net\r\n` +
      `Subject: report ${i % 97} ${WORDS[i % WORDS.length]}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n` +
      `Message-ID: <m${i}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n` +
      lines.join('\r\n') +
      '\r\n',
  );
}

it(`SEARCH TEXT over ${N} messages leaves another session's NOOPs answered and the loop free`, async () => {
  const t = tempDir('lb-search-load-');
  const s = await startStoreServer(t.dir);
  try {
    const account = (await s.backend.authenticate(USER, PASS))!;
    const inbox = Number(account.getMailbox('INBOX')!.id);
    const raws: Buffer[] = [];
    for (let i = 0; i < N; i += 1000) {
      const batch: NewMessage[] = [];
      for (let j = i; j < i + 1000; j++) {
        const r = raw(j);
        raws.push(r);
        batch.push({ raw: r, analysis: analyzeMessage(r) });
      }
      s.store.messages.insertBatch(inbox, batch);
    }
    s.store.flushIndex();
    const naive = (pick: (r: string) => string, needle: string): string => {
      const out: number[] = [];
      raws.forEach((r, k) => pick(r.toString('utf8')).toLowerCase().includes(needle) && out.push(k + 1));
      return out.length ? `* SEARCH ${out.join(' ')}` : '* SEARCH';
    };
    const body = (r: string): string => r.slice(r.indexOf('\r\n\r\n') + 4);
    const subject = (r: string): string => /^Subject: (.*)$/m.exec(r)![1]!;
    assert.equal(
      naive((r) => r, MISSING),
      '* SEARCH',
      'the phrase is in no message',
    );

    const a = await s.login();
    const b = await s.login();
    await a.cmd('s SELECT INBOX');
    await b.cmd('s SELECT INBOX');
    let noops = 0;
    const { value: found, ...loop } = await measureLoop(async () => {
      let done = false;
      const search = a.cmd(`t UID SEARCH TEXT "${MISSING}"`, 600_000).finally(() => (done = true));
      while (!done) {
        const r = await b.cmd(`n${noops} NOOP`, 600_000);
        assert.equal(r.at(-1), `n${noops} OK Noop completed.`);
        noops++;
      }
      return search;
    });
    assert.deepEqual(found, ['* SEARCH', 't OK UID Search completed.']);
    assert.ok(noops >= 1);
    assertLoop(
      loop,
      `UID SEARCH TEXT over ${N} messages (${noops} NOOPs of another session answered meanwhile)`,
    );

    // rows of scattered UIDs (what a search reads after narrowing): looked up, not a folder scan
    const scattered = Array.from({ length: 256 }, (_, k) => 1 + k * 117);
    const fetched = await measureLoop(() =>
      a.cmd(`f UID FETCH ${scattered.join(',')} (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])`, 600_000),
    );
    assert.equal(fetched.value.at(-1), 'f OK UID Fetch completed.');
    assertLoop(fetched, 'UID FETCH of 256 scattered UIDs');

    for (const [cmd, expected] of [
      ['UID SEARCH TEXT quartz3', naive((r) => r, 'quartz3')],
      ['UID SEARCH BODY QUARTZ', naive(body, 'quartz')],
      ['UID SEARCH BODY "report 5"', naive(body, 'report 5')],
      ['UID SEARCH SUBJECT "report 5"', naive(subject, 'report 5')],
      ['UID SEARCH SUBJECT "no such subject"', '* SEARCH'],
    ] as const) {
      const r = await a.cmd(`c ${cmd}`, 600_000);
      assert.equal(r[0], expected, cmd);
      assert.equal(r.at(-1), 'c OK UID Search completed.', cmd);
    }
    a.close();
    b.close();
  } finally {
    await s.close();
    t.cleanup();
  }
});
