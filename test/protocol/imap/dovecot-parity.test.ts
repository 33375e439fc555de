/**
 * Same commands, same messages, Dovecot vs Lockbridge: FETCH of ENVELOPE / BODYSTRUCTURE / BODY /
 * sections / partials / BINARY, SEARCH and LIST answers must be identical (only the text after a
 * tagged OK, which carries Dovecot's timings, is ignored).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImapTestClient, PASS, USER, message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { TestServer } from '../../helpers/imap-transcript.ts';
import { startDovecot } from '../../helpers/imap-dovecot.ts';
import { startImapServer } from '../../../app/imap/server.ts';
import type { ImapServerHandle } from '../../../app/imap/server.ts';
import { createImapBackend } from '../../../app/control/adapters/imap-backend.ts';
import type { StoreImapBackend } from '../../../app/control/adapters/imap-backend.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import type { Store } from '../../../app/store/store.ts';
import { addLocalAccount, newStore, tempDir } from '../../unit/store/helpers.ts';
import type { DovecotHandle } from '../../helpers/imap-dovecot.ts';

const FIX = join(import.meta.dirname, 'fixtures');
const MESSAGES: Buffer[] = [
  readFileSync(join(FIX, 'multipart.eml')),
  readFileSync(join(FIX, 'rfc822.eml')),
  Buffer.from(
    message({
      subject: '=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and more',
      from: '"Doe, John" <john@example.test>',
      to: 'group: one@example.test, two@example.test;',
      headers: ['Reply-To: <@a.example:reply@example.test>', 'X-Custom: yes'],
      body: 'plain body text\r\nsecond line',
    }),
  ),
  Buffer.from(message({ subject: 'empty-ish', body: '' })),
];

const COMMANDS = [
  'f1 FETCH 1:* (ENVELOPE)',
  'f2 FETCH 1:* (BODYSTRUCTURE)',
  'f3 FETCH 1:* (BODY)',
  'f4 FETCH 1:* (RFC822.SIZE)',
  'f5 FETCH 1 (BODY.PEEK[1.1] BODY.PEEK[1.2] BODY.PEEK[2.MIME] BODY.PEEK[3.HEADER] BODY.PEEK[3.TEXT])',
  'f6 FETCH 1 (BODY.PEEK[3.1] BODY.PEEK[3.2.MIME] BODY.PEEK[1])',
  'f7 FETCH 1:* (BODY.PEEK[HEADER.FIELDS (From Subject Message-ID)])',
  'f8 FETCH 1:* (BODY.PEEK[HEADER.FIELDS.NOT (Subject Date From To Cc Message-ID)])',
  'f9 FETCH 1:* (BODY.PEEK[TEXT]<0.20> BODY.PEEK[]<5.7>)',
  'f10 FETCH 2 (BODY.PEEK[1] BODY.PEEK[1.HEADER] BODY.PEEK[1.TEXT] BODY.PEEK[1.1])',
  'f11 FETCH 3 (BODY.PEEK[1] BODY.PEEK[HEADER] BODY.PEEK[TEXT])',
  'f12 FETCH 1 (BINARY.PEEK[1.1] BINARY.SIZE[1.1] BINARY.PEEK[2] BINARY.SIZE[2])',
  'f13 FETCH 1:* (RFC822.HEADER)',
  'f14 FETCH 4 (BODY.PEEK[]<1000.10> BODY.PEEK[TEXT])',
  'f15 UID FETCH 3:* (UID)',
  'f16 UID FETCH 100:* (UID)',
  // HEADER / TEXT of a part that is not message/rfc822 (issue 14 item 12)
  'f17 FETCH 1 (BODY.PEEK[1.HEADER])',
  'f18 FETCH 1 (BODY.PEEK[1.1.HEADER] BODY.PEEK[2.TEXT])',
  'f19 FETCH 1 (UID BODY.PEEK[1.HEADER.FIELDS (Subject)] BODY.PEEK[2.HEADER.FIELDS.NOT (Subject)])',
  'f20 FETCH 3 (BODY.PEEK[1.HEADER] BODY.PEEK[1.TEXT])',
  'f21 FETCH 1 (BODY[1.HEADER])',
  's1 SEARCH SUBJECT inner',
  's2 SEARCH FROM john',
  's3 SEARCH HEADER X-Custom yes',
  's4 SEARCH LARGER 1000',
  's5 SEARCH NOT SMALLER 300',
  's6 UID SEARCH OR SUBJECT menu SUBJECT Grüße',
  's7 SEARCH BODY zanzibarite',
  's8 SEARCH TEXT "second line"',
  's9 SEARCH SENTSINCE 24-Nov-2026',
  's10 SEARCH SENTBEFORE 24-Nov-2026',
  's11 SEARCH 2:3 NOT 3',
  's12 SEARCH UID 2,4',
  's13 SEARCH CC team',
  't1 SORT (SUBJECT) UTF-8 ALL',
  't2 SORT (REVERSE SIZE) UTF-8 ALL',
  't3 SORT (DATE) UTF-8 ALL',
  't4 THREAD ORDEREDSUBJECT UTF-8 ALL',
  // SORT=DISPLAY (RFC 5957), PREVIEW (RFC 8970), SAVEDATE (RFC 8514): issue 15 item 16
  't5 SORT (DISPLAYFROM) UTF-8 ALL',
  't6 SORT (REVERSE DISPLAYTO) UTF-8 ALL',
  'p1 FETCH 1:* (PREVIEW)',
  'p2 SEARCH SAVEDATESUPPORTED',
];

/** Commands whose tagged status (OK / NO / BAD) must be the same as Dovecot's. */
const STATUS_COMMANDS = [
  'x1 STORE 1 +FLAGS (\\Flagged)',
  'x2 STORE 1 -FLAGS.SILENT (\\Flagged $Junk)',
  'x3 UID STORE 1:* FLAGS ($label1)',
  'x4 STORE 1 +FLAGS (\\Bogus)',
  'x5 COPY 1 Nope',
  'x6 COPY 1:2 Trash',
  'x7 UID MOVE 4 Junk',
  'x8 CREATE Trash',
  'x9 CREATE New/Sub',
  'x10 DELETE Nope',
  'x11 RENAME New Newer',
  'x12 STATUS Nope (MESSAGES)',
  'x13 STATUS INBOX (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)',
  'x14 LIST "" "*"',
  'x15 LSUB "" "*"',
  'x16 LIST (SUBSCRIBED) "" "*" RETURN (SPECIAL-USE)',
  'x17 SUBSCRIBE Newer/Sub',
  'x18 UNSUBSCRIBE Newer/Sub',
  'x19 FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE UID)',
  'x20 FETCH 99 FLAGS',
  'x21 UID FETCH 99 FLAGS',
  'x22 SEARCH UNDELETED SINCE 1-Jan-2020',
  'x23 SEARCH CHARSET UTF-8 SUBJECT menu',
  'x24 UID EXPUNGE 1',
  'x25 EXPUNGE',
  'x26 CHECK',
  'x27 NAMESPACE',
  'x28 ENABLE CONDSTORE',
  'x29 FETCH 1 (MODSEQ)',
  'x30 UID SEARCH MODSEQ 1',
  'x31 EXAMINE INBOX',
  'x32 STORE 1 +FLAGS (\\Seen)',
  'x33 UNSELECT',
  'x34 SELECT Nope',
  'x35 NOOP',
];

async function session(port: number, commands: string[], afterAppend?: () => void): Promise<string[][]> {
  const c = await ImapTestClient.connect(port);
  await c.cmd(`l LOGIN ${USER} ${PASS}`);
  for (const [i, m] of MESSAGES.entries()) {
    c.write(`a${i} APPEND INBOX (\\Seen) "24-Nov-2026 12:00:00 +0000" {${m.length}+}\r\n`);
    c.write(m);
    c.write('\r\n');
    const r = await c.until(`a${i}`);
    assert.match(r[r.length - 1]!, new RegExp(`^a${i} OK`));
  }
  afterAppend?.();
  await c.cmd('s SELECT INBOX');
  const out: string[][] = [];
  for (const cmd of commands) {
    const lines = await c.cmd(cmd);
    const last = lines.length - 1;
    lines[last] = lines[last]!.replace(/^(\S+ (?:OK|NO|BAD)).*$/, '$1');
    out.push(lines);
  }
  c.close();
  return out;
}

describe('parity with Dovecot', () => {
  let dovecot: DovecotHandle;
  let lb: TestServer;
  let want: string[][];
  const t = tempDir('lb-parity-');
  let store: Store;
  let storeBackend: StoreImapBackend;
  let storeServer: ImapServerHandle;
  before(async () => {
    dovecot = await startDovecot({ user: USER, password: PASS });
    lb = await startTestServer();
    store = await newStore(t.dir, { ftsIndexing: 'background' });
    addLocalAccount(store, USER, PASS);
    storeBackend = createImapBackend(store, { logger: silentLogger });
    storeServer = await startImapServer({ backend: storeBackend, port: 0, allowPlaintextLogin: true });
    want = await session(dovecot.port, COMMANDS);
  });
  after(async () => {
    await lb.close();
    await storeServer.close();
    storeBackend.dispose();
    store.close();
    t.cleanup();
    await dovecot.stop();
  });

  const compare = (got: string[][]): string[] => {
    const diffs: string[] = [];
    for (let i = 0; i < COMMANDS.length; i++) {
      const a = want[i]!.join('\n');
      const b = got[i]!.join('\n');
      if (a !== b)
        diffs.push(`${COMMANDS[i]}\n  dovecot:    ${JSON.stringify(a)}\n  lockbridge: ${JSON.stringify(b)}`);
    }
    return diffs;
  };

  it('answers over the encrypted store (real ImapBackend adapter) match Dovecot', async () => {
    // Full-text indexing runs in the background: flush it before SEARCH BODY/TEXT.
    const got = await session(storeServer.port, COMMANDS, () => store.flushIndex());
    assert.deepEqual(compare(got), []);
  });

  it('answers over the in-memory reference backend match Dovecot', async () => {
    const got = await session(lb.port, COMMANDS);
    assert.deepEqual(compare(got), []);
  });

  // Last: it appends the messages again to the same servers.
  it('tagged OK / NO / BAD match Dovecot for mailbox and message commands', async () => {
    const status = (r: string[][]): string[] =>
      r.map((l, i) => `${STATUS_COMMANDS[i]} → ${/^\S+ (\S+)/.exec(l[l.length - 1]!)![1]}`);
    const dv = await session(dovecot.port, STATUS_COMMANDS);
    const got = await session(lb.port, STATUS_COMMANDS);
    assert.deepEqual(status(got), status(dv));
  });
});
