/**
 * OBJECTID (RFC 8474), issue 15 item 16: MAILBOXID in CREATE's answer, SELECT/EXAMINE and STATUS
 * (also LIST-STATUS), kept through RENAME and never given to another mailbox; EMAILID kept by COPY
 * and MOVE; THREADID (§5.2) shared by a conversation — by Message-ID, References and In-Reply-To,
 * across mailboxes, whichever message arrives first — and kept by COPY and MOVE; SEARCH EMAILID /
 * THREADID. Transcripts after the RFC's examples (§4.1–§6), over the reference backend and over
 * the encrypted store, where every id is the same after a restart.
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
  thread: string;
  threads: Record<string, string>;
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
  const email = grab(fetched, new RegExp(`^\\* 1 FETCH \\(UID 1 EMAILID \\(${ID}\\) THREADID \\(`));
  const other = grab(fetched, new RegExp(`^\\* 2 FETCH \\(UID 2 EMAILID \\(${ID}\\) THREADID \\(`));
  assert.notEqual(email, other, 'the same bytes appended twice are two messages');
  // ... of one conversation (the same Message-ID)
  const thread = grab(
    fetched,
    new RegExp(`^\\* 1 FETCH \\(UID 1 EMAILID \\(${email}\\) THREADID \\(${ID}\\)\\)$`),
  );
  assert.equal(
    grab(fetched, new RegExp(`^\\* 2 FETCH \\(UID 2 EMAILID \\(${other}\\) THREADID \\(${ID}\\)\\)$`)),
    thread,
  );
  assert.ok(![email, other].includes(thread));
  // §6: SEARCH EMAILID finds exactly that message, SEARCH THREADID its conversation
  await c.expect(`16 SEARCH EMAILID ${email}`, ['* SEARCH 1', '16 OK Search completed.']);
  await c.expect(`17 UID SEARCH EMAILID ${other.toUpperCase()}`, ['* SEARCH', '17 OK UID Search completed.']);
  await c.expect('18 SEARCH THREADID T64b478a75b7ea9', ['* SEARCH', '18 OK Search completed.']);
  await c.expect(`18a SEARCH THREADID ${thread}`, ['* SEARCH 1 2', '18a OK Search completed.']);
  await c.expect('19 SEARCH EMAILID "a b"', [/^19 BAD /]);
  await c.expect('20 UID MOVE 1 renamed', [/^\* OK \[COPYUID /, '* 1 EXPUNGE', '20 OK Move completed.']);
  await c.cmd('21 UID COPY 2 renamed');
  await c.cmd('22 SELECT renamed');
  await c.expect('23 FETCH 1:2 (EMAILID THREADID)', [
    `* 1 FETCH (EMAILID (${email}) THREADID (${thread}))`,
    `* 2 FETCH (EMAILID (${other}) THREADID (${thread}))`,
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
  const threads = await conversations(c);
  return { foo, bar: bar2, inbox, email, copy: other, thread, threads };
}

/** A message of the conversations below: Message-ID <id@example.test>, replying to `parents`. */
function threadMessage(id: string, parents: string[], headers: string[] = []): string {
  const ids = parents.map((p) => `<${p}@example.test>`);
  return message({
    subject: parents.length ? 'Re: lunch' : `lunch ${id}`,
    messageId: `<${id}@example.test>`,
    headers: [
      ...(ids.length ? [`In-Reply-To: ${ids[ids.length - 1]}`, `References: ${ids.join(' ')}`] : []),
      ...headers,
    ],
  });
}

/**
 * §5.2 THREADID, after the RFC's example (§5.3: two threads in one mailbox, kept through MOVE):
 * a root, its reply filed in another mailbox (as in a Sent folder), a reply to the reply that names only
 * its parent in In-Reply-To, and an unrelated message; then a conversation whose reply arrives
 * before the message it answers. Returns each message's THREADID by name.
 */
async function conversations(c: ImapTestClient): Promise<Record<string, string>> {
  await c.cmd('t1 CREATE Replies');
  await c.cmd('t2 CREATE Threads');
  const put = async (box: string, id: string, parents: string[], headers?: string[]): Promise<void> => {
    const m = threadMessage(id, parents, headers);
    await c.cmd(`t-${id} APPEND ${box} {${m.length}+}\r\n${m}`);
  };
  await put('Threads', 'root', []);
  await put('Replies', 'reply', ['root']);
  // In-Reply-To alone (no References), as some clients write it
  const bare = message({
    subject: 'Re: lunch',
    messageId: '<reply2@example.test>',
    headers: ['In-Reply-To: <reply@example.test>'],
  });
  await c.cmd(`t3 APPEND Threads {${bare.length}+}\r\n${bare}`);
  await put('Threads', 'other', []);
  // the reply is stored before its parent (a sync that fetched newest first)
  await put('Threads', 'late-reply', ['late-root']);
  await put('Threads', 'late-root', []);
  await c.cmd('t4 SELECT Threads');
  const rows = await c.cmd('t5 FETCH 1:* (THREADID)');
  const ids: Record<string, string> = {};
  const names = ['root', 'reply2', 'other', 'late-reply', 'late-root'];
  names.forEach((name, i) => {
    ids[name] = grab(rows, new RegExp(`^\\* ${i + 1} FETCH \\(THREADID \\(${ID}\\)\\)$`));
  });
  await c.cmd('t6 EXAMINE Replies');
  ids.reply = grab(
    await c.cmd('t7 FETCH 1 (THREADID)'),
    new RegExp(`^\\* 1 FETCH \\(THREADID \\(${ID}\\)\\)$`),
  );
  assert.equal(ids.reply, ids.root, 'a reply in another mailbox is in its parent’s thread');
  assert.equal(ids.reply2, ids.root, 'In-Reply-To alone links a reply');
  assert.equal(
    ids['late-root'],
    ids['late-reply'],
    'a parent stored after its reply joins the reply’s thread',
  );
  assert.notEqual(ids.other, ids.root, 'an unrelated message is a thread of its own');
  assert.notEqual(ids['late-root'], ids.root);
  assert.notEqual(ids['late-root'], ids.other);
  for (const t of Object.values(ids)) assert.match(t, /^[A-Za-z0-9_-]{1,255}$/);
  // §6: SEARCH THREADID in each mailbox
  await c.cmd('t8 SELECT Threads');
  await c.expect(`t9 SEARCH THREADID ${ids.root}`, ['* SEARCH 1 2', 't9 OK Search completed.']);
  await c.expect(`t10 UID SEARCH THREADID ${ids['late-root']}`, [
    '* SEARCH 4 5',
    't10 OK UID Search completed.',
  ]);
  await c.expect(`t11 SEARCH NOT THREADID ${ids.root} THREADID ${ids.other}`, [
    '* SEARCH 3',
    't11 OK Search completed.',
  ]);
  // §5.3: MOVE and COPY keep the THREADID; a thread id is not an email id
  await c.expect(`t12 SEARCH EMAILID ${ids.root}`, ['* SEARCH', 't12 OK Search completed.']);
  await c.cmd('t13 MOVE 3 Replies');
  await c.cmd('t14 SELECT Replies');
  await c.expect(`t15 SEARCH THREADID ${ids.other}`, ['* SEARCH 2', 't15 OK Search completed.']);
  await c.expect('t16 FETCH 1:2 (THREADID)', [
    `* 1 FETCH (THREADID (${ids.root}))`,
    `* 2 FETCH (THREADID (${ids.other}))`,
    't16 OK Fetch completed.',
  ]);
  await c.cmd('t17 UNSELECT');
  return ids;
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
      await c.expect('r5 FETCH 1:2 (EMAILID THREADID)', [
        `* 1 FETCH (EMAILID (${seen.email}) THREADID (${seen.thread}))`,
        `* 2 FETCH (EMAILID (${seen.copy}) THREADID (${seen.thread}))`,
        'r5 OK Fetch completed.',
      ]);
      // the threads are the same after a restart, and a new reply joins its thread
      await c.cmd('r6 EXAMINE Replies');
      await c.expect('r7 FETCH 1:2 (THREADID)', [
        `* 1 FETCH (THREADID (${seen.threads.root}))`,
        `* 2 FETCH (THREADID (${seen.threads.other}))`,
        'r7 OK Fetch completed.',
      ]);
      const m = threadMessage('after-restart', ['root', 'reply', 'reply2']);
      await c.cmd(`r8 APPEND Threads {${m.length}+}\r\n${m}`);
      await c.cmd('r9 EXAMINE Threads');
      await c.expect(`r10 SEARCH THREADID ${seen.threads.root}`, [
        '* SEARCH 1 2 5',
        'r10 OK Search completed.',
      ]);
      c.close();
    } finally {
      await s.close();
      t.cleanup();
    }
  });
});
