/**
 * Full-text search over messages whose bodies the body cache evicted (issue 20 point 3): the store
 * decides them from the kept header block and the index, and names (`undecided`) those the index
 * cannot decide — a needle shorter than 3 characters, or a needle not in the index of a message
 * whose text reaches beyond what was indexed (a text part ending after FTS_BYTES, more text than
 * TEXT_CAP) — instead of answering them as not matching, as the old code did. A big message whose
 * size is attachments (text well within the bounds) is decided by the index.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { analyzeMessage } from '../../../app/mime/analyze.ts';
import type { Store } from '../../../app/store/store.ts';
import type { TextScope } from '../../../app/store/repos/messages.ts';
import { makeRaw, newStore, tempDir, testAccount } from './helpers.ts';

const words = (n: number): string => 'lorem ipsum dolor sit amet\r\n'.repeat(Math.ceil(n / 28));

function multipart(subject: string, text: string, attachmentBytes: number): Buffer {
  const b64 = Buffer.alloc(attachmentBytes, 7)
    .toString('base64')
    .replace(/(.{76})/g, '$1\r\n');
  return Buffer.from(
    [
      'From: a@example.org',
      'To: b@example.org',
      `Subject: ${subject}`,
      'Date: Mon, 23 Nov 2026 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="XX"',
      '',
      '--XX',
      'Content-Type: text/plain',
      '',
      text,
      '--XX',
      'Content-Type: application/octet-stream',
      'Content-Transfer-Encoding: base64',
      '',
      b64,
      '--XX--',
      '',
    ].join('\r\n'),
  );
}

describe('search of evicted messages', () => {
  const t = tempDir();
  let s: Store;
  let inbox: number;
  const uid: Record<string, number> = {};
  before(async () => {
    s = await newStore(t.dir);
    const acc = testAccount(s, 'evicted@example.org');
    inbox = s.mailboxes.create(acc.id, 'INBOX').id;
    const raws: Record<string, Buffer> = {
      small: makeRaw({ subject: 'small', body: 'alpha zq omega' }),
      header: makeRaw({ subject: 'has zq in it', body: 'plain words' }),
      // one text part ending beyond FTS_BYTES, the needle at its end
      far: makeRaw({ subject: 'far', body: words(1_200_000) + 'farneedle' }),
      // more text than TEXT_CAP, within the first MiB
      long: makeRaw({ subject: 'long', body: words(400_000) + 'farneedle' }),
      // 300 KB of attachment after a short text
      attached: multipart('attached', 'short text', 300_000),
    };
    let remote = 0;
    for (const [name, raw] of Object.entries(raws))
      uid[name] = s.messages.insert(
        inbox,
        {
          raw,
          analysis: analyzeMessage(raw),
          remote: { remoteMailbox: 'INBOX', uidvalidity: 1, uid: ++remote },
        },
        'sync',
      ).uid;
    // local messages (not at the provider: never evicted) the needles are not in: with them the
    // index names few enough for the search to read only its candidates (sparse)
    for (let i = 0; i < 40; i++) {
      const raw = makeRaw({ subject: `filler ${i}`, body: `plain filler ${i}` });
      s.messages.insert(inbox, { raw, analysis: analyzeMessage(raw) });
    }
    s.flushIndex();
    s.messages.bodyCache.setBudget(0);
    while (s.messages.bodyCache.evictStep() > 0);
    for (const u of Object.values(uid)) assert.ok(s.messages.bodyEvicted(s.messages.get(inbox, u)!.blobId));
  });
  after(() => {
    s.close();
    t.cleanup();
  });

  function search(
    needle: string,
    scope: TextScope,
    useIndex = true,
    sparse = true,
  ): { found: number[]; undecided: number[] } {
    const found: number[] = [];
    const undecided: number[] = [];
    for (const step of s.messages.searchTextSteps(inbox, needle, scope, [0, 0xffffffff], {
      useIndex,
      sparse,
      sparseShare: 4, // (a small mailbox: read by UID up to a quarter of it)
      undecided: (u) => undecided.push(u),
    }))
      if (Array.isArray(step)) found.push(...step);
    return { found, undecided };
  }

  const uids = (...names: string[]): number[] => names.map((n) => uid[n]!).sort((a, b) => a - b);

  for (const [useIndex, sparse] of [
    [true, true],
    [true, false],
    [false, true],
  ] as const) {
    const how = !useIndex
      ? 'among a few (no index query)'
      : sparse
        ? 'with the index query, its candidates read'
        : 'with the index query, every message walked';
    it(`a 2-character needle: every evicted body is undecided, a header that holds it found (${how})`, () => {
      assert.deepEqual(search('zq', 'body', useIndex, sparse), {
        found: [],
        undecided: uids('small', 'header', 'far', 'long', 'attached'),
      });
      assert.deepEqual(search('zq', 'text', useIndex, sparse), {
        found: uids('header'),
        undecided: uids('small', 'far', 'long', 'attached'),
      });
    });

    it(`a needle not in the index: undecided only where the text reaches beyond what was indexed (${how})`, () => {
      assert.deepEqual(search('farneedle', 'body', useIndex, sparse), {
        found: [],
        undecided: uids('far', 'long'),
      });
      assert.deepEqual(search('alpha', 'text', useIndex, sparse), {
        found: uids('small'),
        undecided: uids('far', 'long'),
      });
      assert.deepEqual(search('lorem ipsum', 'body', useIndex, sparse), {
        found: uids('far', 'long'),
        undecided: [],
      });
    });
  }

  it('header-only searches (the header index prefilter) name nothing undecided', () => {
    assert.deepEqual(search('zq', 'headers'), { found: uids('header'), undecided: [] });
  });
});
