/**
 * OBJECTID (RFC 8474), issue 15 item 16: MAILBOXID in CREATE's answer, SELECT/EXAMINE and STATUS
 * (also LIST-STATUS), kept through RENAME and never given to another mailbox; EMAILID kept by COPY
 * and MOVE; THREADID NIL (messages are not threaded: §5.2); SEARCH EMAILID / THREADID. Transcripts
 * after the RFC's examples (§4.1–§6), over the reference backend and over the encrypted store,
 * where every id is the same after a restart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { message } from '../../helpers/imap-transcript.ts';
import type { ImapTestClient } from '../../helpers/imap-transcript.ts';
import { startStoreServer, onReferenceServer } from '../../helpers/imap-store-server.ts';
import { tempDir } from '../../unit/store/helpers.ts';

const ID = '([A-Za-z0-9_-]{1,255})';

function grab(lines: string[], re: RegExp): string {
  for (const l of lines) {
    const m = re.exec(l);
    if (m) return m[1]!;
  }
  assert.fail(`no ${re} in\n${lines.join('\n')}`);
}

/** The ids the transcript saw, to compare after a restart. */
interface Seen {
  foo: string;
  bar: string;
  inbox: string;
  email: string;
  copy: string;
}

async function transcript(c: ImapTestClient): Promise<Seen> {
  await c.expect('c CAPABILITY', [/^\* CAPABILITY .* OBJECTID( |$)/, 'c OK Capability completed.']);
  // §4.1: CREATE answers the new mailbox's MAILBOXID
  const foo = grab(
    await c.cmd('3 CREATE foo'),
    new RegExp(`^3 OK \\[MAILBOXID \\(${ID}\\)\\] Create completed\\.$`),
  );
  const bar = grab(
    await c.cmd('4 CREATE bar'),
    new RegExp(`^4 OK \\[MAILBOXID \\(${ID}\\)\\] Create completed\\.$`),
  );
  assert.notEqual(foo, bar);
  await c.expect('5 CREATE foo', [/^5 NO \[ALREADYEXISTS\] /]);
  // §4.3: STATUS MAILBOXID, the same after RENAME
  await c.expect('6 STATUS foo (MAILBOXID)', [`* STATUS foo (MAILBOXID (${foo}))`, '6 OK Status completed.']);
  await c.expect('7 RENAME foo renamed', ['7 OK Rename completed.']);
  await c.expect('8 STATUS renamed (MAILBOXID MESSAGES)', [
    `* STATUS renamed (MAILBOXID (${foo}) MESSAGES 0)`,
    '8 OK Status completed.',
  ]);
  await c.expect('9 STATUS bar (MAILBOXID)', [`* STATUS bar (MAILBOXID (${bar}))`, '9 OK Status completed.']);
  // §4.2: SELECT and EXAMINE give it as a response code
  const sel = await c.cmd('10 EXAMINE renamed');
  assert.equal(grab(sel, new RegExp(`^\\* OK \\[MAILBOXID \\(${ID}\\)\\] Ok$`)), foo);
  const inbox = grab(
    await c.cmd('11 LIST "" INBOX RETURN (STATUS (MAILBOXID))'),
    new RegExp(`^\\* STATUS INBOX \\(MAILBOXID \\(${ID}\\)\\)$`),
  );
  assert.ok(![foo, bar].includes(inbox));

  // §5.1: EMAILID stays with the message through MOVE and COPY
  const m = message({ messageId: '<objectid@example.test>' });
  await c.cmd(`12 APPEND INBOX "20-Mar-2018 03:07:37 +1100" {${m.length}+}\r\n${m}`);
  await c.cmd(`13 APPEND INBOX {${m.length}+}\r\n${m}`);
  await c.cmd('14 SELECT INBOX');
  const fetched = await c.cmd('15 UID FETCH 1:2 (EMAILID THREADID)');
  const email = grab(fetched, new RegExp(`^\\* 1 FETCH \\(UID 1 EMAILID \\(${ID}\\) THREADID NIL\\)$`));
  const other = grab(fetched, new RegExp(`^\\* 2 FETCH \\(UID 2 EMAILID \\(${ID}\\) THREADID NIL\\)$`));
  assert.notEqual(email, other, 'the same bytes appended twice are two messages');
  // §6: SEARCH EMAILID finds exactly that message; no message has a THREADID
  await c.expect(`16 SEARCH EMAILID ${email}`, ['* SEARCH 1', '16 OK Search completed.']);
  await c.expect(`17 UID SEARCH EMAILID ${other.toUpperCase()}`, ['* SEARCH', '17 OK UID Search completed.']);
  await c.expect('18 SEARCH THREADID T64b478a75b7ea9', ['* SEARCH', '18 OK Search completed.']);
  await c.expect('19 SEARCH EMAILID "a b"', [/^19 BAD /]);
  await c.expect('20 UID MOVE 1 renamed', [/^\* OK \[COPYUID /, '* 1 EXPUNGE', '20 OK Move completed.']);
  await c.cmd('21 UID COPY 2 renamed');
  await c.cmd('22 SELECT renamed');
  await c.expect('23 FETCH 1:2 (EMAILID)', [
    `* 1 FETCH (EMAILID (${email}))`,
    `* 2 FETCH (EMAILID (${other}))`,
    '23 OK Fetch completed.',
  ]);
  await c.expect(`24 SEARCH OR EMAILID ${email} EMAILID ${other}`, [
    '* SEARCH 1 2',
    '24 OK Search completed.',
  ]);
  await c.expect('25 STATUS INBOX (MAILBOXID)', [
    `* STATUS INBOX (MAILBOXID (${inbox}))`,
    '25 OK Status completed.',
  ]);

  // a mailbox deleted and created again is another mailbox
  await c.cmd('26 UNSELECT');
  await c.expect('27 DELETE bar', ['27 OK Delete completed.']);
  const bar2 = grab(await c.cmd('28 CREATE bar'), new RegExp(`^28 OK \\[MAILBOXID \\(${ID}\\)\\] `));
  assert.ok(![foo, bar, inbox].includes(bar2));
  // RENAME INBOX (RFC 3501: its messages go to a new mailbox): INBOX keeps its id, the new one
  // gets its own, and the messages keep theirs
  await c.expect('29 RENAME INBOX Old-Inbox', ['29 OK Rename completed.']);
  const old = grab(
    await c.cmd('30 STATUS Old-Inbox (MAILBOXID MESSAGES)'),
    new RegExp(`MAILBOXID \\(${ID}\\)`),
  );
  assert.ok(![foo, bar, bar2, inbox].includes(old));
  await c.expect('31 STATUS INBOX (MAILBOXID MESSAGES)', [
    `* STATUS INBOX (MAILBOXID (${inbox}) MESSAGES 0)`,
    '31 OK Status completed.',
  ]);
  await c.cmd('32 SELECT Old-Inbox');
  await c.expect('33 FETCH 1 (EMAILID)', [`* 1 FETCH (EMAILID (${other}))`, '33 OK Fetch completed.']);
  return { foo, bar: bar2, inbox, email, copy: other };
}

describe('OBJECTID', () => {
  it('gives mailboxes and messages stable ids (reference backend)', async () => {
    await onReferenceServer(transcript);
  });

  it('gives mailboxes and messages stable ids, the same after a restart (encrypted store)', async () => {
    const t = tempDir('lb-objectid-');
    let s = await startStoreServer(t.dir);
    try {
      let c = await s.login();
      const seen = await transcript(c);
      c.close();
      await s.close();
      s = await startStoreServer(t.dir, true);
      c = await s.login();
      await c.expect('r1 STATUS renamed (MAILBOXID)', [
        `* STATUS renamed (MAILBOXID (${seen.foo}))`,
        'r1 OK Status completed.',
      ]);
      await c.expect('r2 STATUS bar (MAILBOXID)', [
        `* STATUS bar (MAILBOXID (${seen.bar}))`,
        'r2 OK Status completed.',
      ]);
      await c.expect('r3 STATUS INBOX (MAILBOXID)', [
        `* STATUS INBOX (MAILBOXID (${seen.inbox}))`,
        'r3 OK Status completed.',
      ]);
      await c.cmd('r4 EXAMINE renamed');
      await c.expect('r5 FETCH 1:2 (EMAILID)', [
        `* 1 FETCH (EMAILID (${seen.email}))`,
        `* 2 FETCH (EMAILID (${seen.copy}))`,
        'r5 OK Fetch completed.',
      ]);
      c.close();
    } finally {
      await s.close();
      t.cleanup();
    }
  });
});
