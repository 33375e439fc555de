/**
 * SEARCH FROM / TO / CC / BCC / SUBJECT narrowed by the store's header index (issue 20): the
 * answers equal the in-memory reference server's (which reads every message) on the same
 * messages — encoded words, display names, folded fields, a needle that is in another field or only
 * in the body — while part of the folder is indexed and part still queued.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { startStoreServer } from '../../helpers/imap-store-server.ts';
import { message, startTestServer, type ImapTestClient } from '../../helpers/imap-transcript.ts';
import { tempDir } from '../../unit/store/helpers.ts';

function messages(): string[] {
  const out: string[] = [];
  for (let i = 0; i < 300; i++) {
    const kind = i % 6;
    out.push(
      message({
        messageId: `<h${i}@example.test>`,
        subject:
          kind === 0
            ? `=?UTF-8?Q?Caf=C3=A9_quarterly_report_${i}?=`
            : kind === 1
              ? `Weekly\r\n  meeting notes ${i}`
              : kind === 2
                ? `=?ISO-8859-1?B?${Buffer.from(`Résumé budget ${i}`, 'latin1').toString('base64')}?=`
                : `plain subject ${i}`,
        from:
          kind === 3
            ? `=?UTF-8?Q?J=C3=B6rg_Budget?= <jorg@example.test>`
            : `Sender ${i % 7} <s${i % 7}@example.test>`,
        to: kind === 4 ? 'quarterly-list@example.test' : 'alice@example.test',
        headers: kind === 5 ? ['Cc: Carol Meeting <carol@example.test>'] : [],
        body: `body of ${i}: the budget and the meeting, quarterly`,
      }),
    );
  }
  return out;
}

const SEARCHES = [
  'SUBJECT quarterly',
  'SUBJECT "report 1"',
  'SUBJECT "meeting notes"',
  'SUBJECT budget',
  'SUBJECT sum',
  'SUBJECT zz',
  'FROM budget',
  'FROM "sender 3"',
  'FROM s5@example',
  'TO quarterly',
  'CC meeting',
  'BCC meeting',
  'SUBJECT nothing-like-this',
  'SUBJECT quarterly FROM "sender 2"',
  'UNSEEN SUBJECT plain',
  'OR SUBJECT budget FROM budget',
  'NOT SUBJECT quarterly',
];

async function answers(c: ImapTestClient): Promise<string[]> {
  await c.cmd('s SELECT INBOX');
  const out: string[] = [];
  for (const q of SEARCHES) out.push((await c.cmd(`q UID SEARCH CHARSET UTF-8 ${q}`, 60_000))[0]!);
  return out;
}

it('header searches narrowed by the index answer as the reference server does', async () => {
  const ref = await startTestServer();
  const t = tempDir('lb-search-headers-');
  const s = await startStoreServer(t.dir);
  try {
    const r = await ref.login();
    const c = await s.login();
    for (const m of messages()) {
      for (const client of [r, c]) {
        const res = await client.cmd(`a APPEND INBOX {${Buffer.byteLength(m)}+}\r\n${m}`);
        assert.match(res.at(-1)!, /^a OK /);
      }
    }
    const want = await answers(r);
    assert.deepEqual(await answers(c), want, 'nothing indexed');
    s.store.messages.indexBatch(150);
    assert.deepEqual(await answers(c), want, 'half indexed');
    s.store.flushIndex();
    assert.deepEqual(await answers(c), want, 'all indexed');
    assert.ok(want.some((l) => l.split(' ').length > 3) && want.includes('* SEARCH'));
    r.close();
    c.close();
  } finally {
    await s.close();
    await ref.close();
    t.cleanup();
  }
});
