/**
 * Issue 14: single hostile requests must not freeze the server. Each test runs the request on one
 * connection while the event loop's longest delay is measured (perf_hooks.monitorEventLoopDelay,
 * bound 200 ms) and checks the exact answer.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ImapTestClient, PASS, USER, message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { TestServer } from '../../helpers/imap-transcript.ts';
import type { Logger } from '../../../app/shared/logger.ts';
import { assertLoop, loopDelay } from '../../helpers/event-loop.ts';

interface LogEntry {
  level: string;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

function captureLogger(out: LogEntry[]): Logger {
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      out.push({ level, obj: obj as Record<string, unknown>, msg });
    };
  const l: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => l,
  };
  return l;
}

/** Sends a line and returns the first line of the answer. */
async function first(c: ImapTestClient, line: string): Promise<string> {
  c.write(line + '\r\n');
  return c.readLine();
}

describe('hostile requests (issue 14)', () => {
  let s: TestServer;
  const logs: LogEntry[] = [];
  before(async () => {
    s = await startTestServer({ logger: captureLogger(logs) });
    for (const name of ['Archive', 'Archive/2026', 'Lists/' + 'a'.repeat(200)]) s.account.createMailbox(name);
    // a 2 MB header field folded into 40,000 lines (anyone can mail one)
    const folded =
      'X-Big: start\r\n' +
      Array.from({ length: 40_000 }, (_, i) => ` word${i} ${'x'.repeat(40)}`).join('\r\n');
    s.account.deliver('INBOX', message({ subject: 'big header', headers: [folded, 'X-Small: needle here'] }));
    s.account.deliver('INBOX', message({ subject: 'plain', headers: ['X-Big: other'] }));
  });
  after(() => s.close());

  it('LIST with wildcard runs answers at once (item 6)', async () => {
    const c = await s.login();
    const loop = await loopDelay(async () => {
      await c.expect('a1 LIST "" "**********q"', ['a1 OK List completed.']);
      await c.expect(`a2 LIST "" "${'%'.repeat(16)}q"`, ['a2 OK List completed.']);
      await c.expect(`a3 LIST "" "${'*a'.repeat(3000)}q"`, ['a3 OK List completed.']);
      await c.expect('a4 LIST "" "Arch*%%*"', [
        '* LIST (\\HasChildren) "/" Archive',
        '* LIST (\\HasNoChildren) "/" Archive/2026',
        'a4 OK List completed.',
      ]);
    });
    assertLoop(loop, 'LIST');
    c.close();
  });

  it('SEARCH HEADER over a 2 MB folded header is linear (item 7)', async () => {
    const c = await s.login();
    await c.cmd('b0 SELECT INBOX');
    const loop = await loopDelay(async () => {
      await c.expect('b1 SEARCH HEADER X-Big word39999', ['* SEARCH 1', 'b1 OK Search completed.']);
      await c.expect('b2 SEARCH HEADER X-Big "word7 xxx"', ['* SEARCH 1', 'b2 OK Search completed.']);
      await c.expect('b3 SEARCH HEADER X-Big nomatch', ['* SEARCH', 'b3 OK Search completed.']);
      await c.expect('b4 SEARCH HEADER X-Big other', ['* SEARCH 2', 'b4 OK Search completed.']);
      // the field name is not part of the value; other fields are not searched
      await c.expect('b5 SEARCH HEADER X-Big X-Small', ['* SEARCH', 'b5 OK Search completed.']);
      await c.expect('b6 SEARCH HEADER X-Small needle', ['* SEARCH 1', 'b6 OK Search completed.']);
    });
    assertLoop(loop, 'SEARCH HEADER');
    c.close();
  });

  it('HEADER / TEXT of a part that is not a message answer an empty string, as Dovecot (item 12)', async () => {
    const c = await s.login();
    await c.cmd('c0 SELECT INBOX');
    await c.expect('c1 FETCH 2 (BODY.PEEK[1.HEADER])', [
      '* 2 FETCH (BODY[1.HEADER] {0}\r\n)',
      'c1 OK Fetch completed.',
    ]);
    await c.expect('c2 FETCH 2 (BODY.PEEK[2.1.HEADER] BODY.PEEK[1.TEXT])', [
      '* 2 FETCH (BODY[2.1.HEADER] {0}\r\n BODY[1.TEXT] {0}\r\n)',
      'c2 OK Fetch completed.',
    ]);
    c.close();
  });

  it('an internal error is logged with its stack and answered NO [SERVERBUG], never a half response (item 12)', async () => {
    const c = await s.login();
    await c.cmd('d0 SELECT INBOX');
    const fetch = s.account.fetch.bind(s.account);
    // rows whose part list fails while the section is resolved (after `* 2 FETCH (` on old code)
    const poisoned = {
      [Symbol.iterator]() {
        throw new Error('disk on fire');
      },
    } as unknown as [];
    s.account.fetch = (...a: Parameters<typeof fetch>) =>
      fetch(...a).map((r) => (a[2].raw ? { ...r, parts: poisoned } : r));
    try {
      await c.expect('d1 FETCH 2 (UID BODY.PEEK[1.HEADER])', [
        'd1 NO [SERVERBUG] Internal error occurred. Refer to server log for more information.',
      ]);
      await c.expect('d2 FETCH 2 (UID)', ['* 2 FETCH (UID 2)', 'd2 OK Fetch completed.']);
    } finally {
      s.account.fetch = fetch;
    }
    const entry = logs.find(
      (l) => l.level === 'error' && (l.obj.err as Error | undefined)?.message === 'disk on fire',
    );
    assert.ok(entry, 'the internal error is logged');
    assert.match((entry.obj.err as Error).stack ?? '', /hostile-requests\.test\.ts/);
    c.close();
  });

  it('names echoed in responses carry no control characters (item 14)', async () => {
    const c = await s.login();
    await c.expect('e1 SELECT "&AAA-"', ['e1 NO [NONEXISTENT] Mailbox does not exist: ?']);
    await c.expect('e2 STATUS "a&AB8-b" (MESSAGES)', ['e2 NO [NONEXISTENT] Mailbox does not exist: a?b']);
    const long = 'n'.repeat(900);
    await c.expect(`e3 DELETE ${long}`, [
      `e3 NO [NONEXISTENT] Mailbox does not exist: ${'n'.repeat(200)}...`,
    ]);
    c.close();
  });
});

/** `OR key1 OR key2 ... keyN` */
function orChain(keys: string[]): string {
  return keys.length === 1 ? keys[0]! : `OR ${keys[0]} ${orChain(keys.slice(1))}`;
}

describe('heavy SEARCH (issue 14 item 8)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
    const box = s.account.createMailbox('Big');
    for (let i = 0; i < 3000; i++)
      s.account.deliver('Big', message({ subject: `m${i}`, body: `word${i % 97} ${'filler '.repeat(300)}` }));
    assert.ok(box);
  });
  after(() => s.close());

  it("1,000 OR'ed BODY keys are refused at once with NO [LIMIT]", async () => {
    const c = await s.login();
    await c.cmd('a0 SELECT INBOX');
    const keys = Array.from({ length: 1000 }, (_, i) => `BODY k${i}`);
    const loop = await loopDelay(async () => {
      await c.expect(`a1 SEARCH ${orChain(keys)}`, [
        'a1 NO [LIMIT] Search too complex: 1000 BODY/TEXT keys (at most 64)',
      ]);
      await c.expect(`a2 SEARCH ${'NOT '.repeat(1200)}ALL`, [
        'a2 NO [LIMIT] Search too complex: 1201 keys (at most 1000)',
      ]);
    });
    assertLoop(loop, 'refused SEARCH');
    c.close();
  });

  it('a heavy but allowed SEARCH yields: others are served meanwhile', async () => {
    const c = await s.login();
    await c.cmd('b0 SELECT Big');
    const keys = Array.from({ length: 60 }, (_, i) => `BODY word${i + 37}`);
    const other = await s.login();
    const loop = await loopDelay(async () => {
      const search = c.cmd(`b1 SEARCH ${orChain(keys)} NOT SUBJECT nothing`, 60_000);
      const side = (async () => {
        await other.cmd('o1 SELECT Big');
        await other.expect('o2 FETCH 1 (UID)', ['* 1 FETCH (UID 1)', 'o2 OK Fetch completed.']);
      })();
      const [r] = await Promise.all([search, side]);
      const hits = r[0]!.split(' ').slice(2).map(Number);
      // words 37..96: messages whose i % 97 is in that range
      const want = Array.from({ length: 3000 }, (_, i) => i)
        .filter((i) => i % 97 >= 37)
        .map((i) => i + 1);
      assert.deepEqual(hits, want);
      assert.equal(r[1], 'b1 OK Search completed.');
    });
    assertLoop(loop, 'heavy SEARCH');
    c.close();
    other.close();
  });
});

describe('pre-authentication limits and connection slots (issue 14 items 9, 10)', () => {
  it('before login only small literals are taken; a big LITERAL+ closes the connection', async () => {
    const s = await startTestServer();
    try {
      const c = await ImapTestClient.connect(s.port);
      await c.expect('a LOGIN {60000000}', ['a BAD [TOOBIG] Literal too big (max 8192 bytes)']);
      c.write('b LOGIN {60000000+}\r\n');
      assert.equal(await c.readLine(), 'b BAD [TOOBIG] Literal too big (max 8192 bytes)');
      assert.equal(await c.readLine(), '* BAD [TOOBIG] Literal too big to skip');
      assert.equal(await c.readLine(), '* BYE Too many invalid IMAP commands.');
      await c.waitClosed();
      // a small literal still works, and after login big literals are allowed again
      const d = await ImapTestClient.connect(s.port);
      d.write(`l LOGIN ${USER} {${PASS.length}}\r\n`);
      assert.equal(await d.readLine(), '+ Ready for literal data');
      assert.match(await first(d, PASS), /^l OK \[CAPABILITY .*\] Logged in$/);
      assert.equal(await first(d, 'x APPEND INBOX {60000000}'), '+ Ready for literal data');
      d.close();
    } finally {
      await s.close();
    }
  });

  it('literals of all connections together stay within the budget: NO [LIMIT], then room again', async () => {
    const s = await startTestServer({ maxBufferedLiteralBytes: 1_000_000 });
    try {
      const a = await s.login();
      const b = await s.login();
      const msg = message({ subject: 'budget', body: 'x'.repeat(700_000) });
      a.write(`a1 APPEND INBOX {${msg.length}}\r\n`);
      assert.equal(await a.readLine(), '+ Ready for literal data');
      a.write(msg.slice(0, 1000));
      await b.expect(`b1 APPEND INBOX {${msg.length}}`, [
        'b1 NO [LIMIT] Server busy receiving other data, try again later',
      ]);
      a.write(msg.slice(1000) + '\r\n');
      assert.match((await a.until('a1')).at(-1)!, /^a1 OK /);
      assert.equal(await first(b, `b2 APPEND INBOX {${msg.length}}`), '+ Ready for literal data');
      b.write(msg + '\r\n');
      assert.match((await b.until('b2')).at(-1)!, /^b2 OK /);
      // a client that goes away mid-literal gives its share back
      const c = await s.login();
      assert.equal(await first(c, `c1 APPEND INBOX {${msg.length}}`), '+ Ready for literal data');
      c.close();
      const d = await s.login();
      let ok = false;
      for (let i = 0; i < 100 && !ok; i++) {
        ok = (await first(d, `d${i} APPEND INBOX {${msg.length}}`)) === '+ Ready for literal data';
        if (!ok) await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(ok, 'the budget is given back when a connection closes');
      d.close();
      a.close();
      b.close();
    } finally {
      await s.close();
    }
  });

  it('trickling unauthenticated connections never keep a real client out', async () => {
    const s = await startTestServer({ maxConnections: 30, maxPreAuthConnections: 10 });
    try {
      const idle: ImapTestClient[] = [];
      for (let i = 0; i < 40; i++) idle.push(await ImapTestClient.connect(s.port));
      const c = await s.login();
      // served: how many untagged lines SELECT gives is no concern of this test, only its OK
      assert.match((await c.cmd('s1 SELECT INBOX')).at(-1)!, /^s1 OK /);
      // the oldest idle ones were told why they were closed
      assert.equal(await idle[0]!.readLine(), '* BYE Too many unauthenticated connections.');
      // logged-in connections may use every slot; then a new one is refused
      const authed = [c];
      while (authed.length < 30) authed.push(await s.login());
      const late = await ImapTestClient.connect(s.port, { greeting: false });
      assert.equal(await late.readLine(), '* BYE Too many connections.');
      for (const x of [...idle, ...authed, late]) x.close();
    } finally {
      await s.close();
    }
  });

  it('authentication has a total deadline that trickled bytes do not extend', async () => {
    const s = await startTestServer({ authDeadlineMs: 300, preAuthTimeoutMs: 60_000 });
    try {
      const c = await ImapTestClient.connect(s.port);
      const trickle = setInterval(() => c.write('a'), 50);
      try {
        assert.equal(await c.readLine(3000), '* BYE Authentication timed out.');
        await c.waitClosed();
      } finally {
        clearInterval(trickle);
      }
      const d = await s.login();
      await new Promise((r) => setTimeout(r, 400));
      await d.expect('n NOOP', ['n OK Noop completed.']);
      d.close();
    } finally {
      await s.close();
    }
  });
});
