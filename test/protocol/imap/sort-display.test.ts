/**
 * SORT=DISPLAY (RFC 5957), issue 15 item 16: DISPLAYFROM / DISPLAYTO sort by the first address's
 * decoded display name (a group's name for a group), or its addr-spec when it has none (RFC 5957
 * §3), under i;ascii-casemap, ties in sequence order (RFC 5256); the order Dovecot 2.3.19 gives. Over the reference backend and over the real store, whose
 * rows give only the summary header fields.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertLoop, measureLoop } from '../../helpers/event-loop.ts';
import { message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { ImapTestClient } from '../../helpers/imap-transcript.ts';
import { onReferenceServer, onNewStoreServer } from '../../helpers/imap-store-server.ts';

const MESSAGES = [
  { from: '"Zed Zulu" <aaa@example.test>', to: 'bob@example.test' },
  { from: 'carol@example.test', to: '"Yolanda" <a@example.test>' },
  { from: '=?utf-8?q?Alice_Q?= <zzz@example.test>', to: '"" <dave@example.test>' },
  { from: 'bob <yyy@example.test>', to: 'undisclosed-recipients:;' },
  { from: 'ALICE Q <b@example.test>', to: 'Team: "Xavier" <x@example.test>, y@example.test;' },
];

async function transcript(c: ImapTestClient): Promise<void> {
  for (const m of MESSAGES) {
    const raw = message(m);
    await c.cmd(`a APPEND INBOX {${raw.length}+}\r\n${raw}`);
  }
  await c.cmd('s SELECT INBOX');
  await c.expect('c CAPABILITY', [/^\* CAPABILITY .* SORT=DISPLAY( |$)/, 'c OK Capability completed.']);
  // addr-mailbox (RFC 5256 FROM): aaa b carol yyy zzz
  await c.expect('d1 SORT (FROM) UTF-8 ALL', ['* SORT 1 5 2 4 3', 'd1 OK Sort completed.']);
  // display names: "ALICE Q" (decoded, twice: sequence order), "bob", carol's address, "Zed Zulu"
  await c.expect('d2 SORT (DISPLAYFROM) UTF-8 ALL', ['* SORT 3 5 4 2 1', 'd2 OK Sort completed.']);
  await c.expect('d3 SORT (REVERSE DISPLAYFROM) UTF-8 ALL', ['* SORT 1 2 4 3 5', 'd3 OK Sort completed.']);
  // an empty display name gives the address; a group's display name is the group's name (as Dovecot)
  await c.expect('d4 SORT (DISPLAYTO) UTF-8 ALL', ['* SORT 1 3 5 4 2', 'd4 OK Sort completed.']);
  await c.expect('d5 UID SORT (DISPLAYTO) UTF-8 NOT UID 1', ['* SORT 3 5 4 2', 'd5 OK UID Sort completed.']);
  await c.expect('d6 SORT (DISPLAYFROM REVERSE ARRIVAL) UTF-8 ALL', [
    '* SORT 5 3 4 2 1',
    'd6 OK Sort completed.',
  ]);
  await c.expect('d7 SORT (DISPLAYFROM) UTF-8 HEADER Subject hello FROM example', [
    '* SORT 3 5 4 2 1',
    'd7 OK Sort completed.',
  ]);
  await c.expect('d8 SORT (DISPLAYCC) UTF-8 ALL', ['d8 BAD Invalid sort criterion']);
}

describe('SORT=DISPLAY', () => {
  it('sorts by display name, else address (reference backend)', async () => {
    await onReferenceServer(transcript);
  });

  it('sorts by display name, else address (encrypted store)', async () => {
    await onNewStoreServer('lb-sort-display-', transcript);
  });

  it('SORT (DISPLAYFROM) of 30,000 messages leaves the event loop free (issue 14: <= 200 ms)', async () => {
    const s = await startTestServer();
    try {
      s.account.createMailbox('Big');
      for (let i = 0; i < 30_000; i++) {
        const from = `=?utf-8?q?J=C3=B6rg_${i % 977}?= <j${i}@example.test>`;
        s.account.deliver('Big', message({ from, subject: `s${i}` }));
      }
      const c = await s.login();
      await c.cmd('s SELECT Big', 60_000);
      const { value: r, ...loop } = await measureLoop(() => c.cmd('x SORT (DISPLAYFROM) UTF-8 ALL', 60_000));
      assert.equal(r.at(-1), 'x OK Sort completed.');
      // "Jörg 0" (messages 1, 978, ...) first
      assert.match(r[0]!, /^\* SORT 1 978 1955 /);
      assertLoop(loop, 'SORT (DISPLAYFROM)');
      c.close();
    } finally {
      await s.close();
    }
  });
});
