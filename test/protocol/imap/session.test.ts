/** Transcripts: greeting, CAPABILITY, NOOP, LOGOUT, LOGIN, AUTHENTICATE, STARTTLS, ENABLE, ID, NAMESPACE, COMPRESS. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants as zc, createDeflateRaw, createInflateRaw } from 'node:zlib';
import { connect as netConnect } from 'node:net';
import { createLocalTls } from '../../../app/crypto/local-ca.ts';
import { ImapTestClient, PASS, USER, startTestServer } from '../../helpers/imap-transcript.ts';
import type { TestServer } from '../../helpers/imap-transcript.ts';
import type { Logger } from '../../../app/shared/logger.ts';

const PRE_CAPS = 'IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('IMAP session basics (plaintext allowed)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ offerCompress: true });
  });
  after(() => s.close());

  it('greets with capabilities and answers CAPABILITY / NOOP before login', async () => {
    const c = await ImapTestClient.connect(s.port, { greeting: false });
    assert.equal(await c.readLine(), `* OK [CAPABILITY ${PRE_CAPS} AUTH=PLAIN] Lockbridge ready.`);
    await c.expect('a1 CAPABILITY', [`* CAPABILITY ${PRE_CAPS} AUTH=PLAIN`, 'a1 OK Capability completed.']);
    await c.expect('a2 NOOP', ['a2 OK Noop completed.']);
    await c.expect('a3 SELECT INBOX', ['a3 BAD SELECT not allowed now: please log in first.']);
    await c.expect('a4 FOO', ['a4 BAD Unknown command']);
    await c.expect('a5 LOGOUT', ['* BYE Logging out', 'a5 OK Logout completed.']);
    await c.waitClosed();
  });

  it('LOGIN succeeds with [CAPABILITY] and fails with AUTHENTICATIONFAILED', async () => {
    const c = await ImapTestClient.connect(s.port);
    await c.expect(`b1 LOGIN ${USER} wrong`, ['b1 NO [AUTHENTICATIONFAILED] Authentication failed.']);
    await c.expect(`b2 LOGIN "${USER}" "${PASS}"`, [
      /^b2 OK \[CAPABILITY IMAP4rev1 .* NAMESPACE UIDPLUS MOVE .*CONDSTORE.*\] Logged in$/,
    ]);
    await c.expect(`b3 LOGIN ${USER} ${PASS}`, ['b3 BAD LOGIN not allowed in this state.']);
    await c.expect('b4 NAMESPACE', ['* NAMESPACE (("" "/")) NIL NIL', 'b4 OK Namespace completed.']);
    await c.expect('b5 ID ("name" "Thunderbird" "version" "153.7.0")', [
      '* ID ("name" "Lockbridge")',
      'b5 OK Id completed.',
    ]);
    await c.expect('b6 ID NIL', ['* ID ("name" "Lockbridge")', 'b6 OK Id completed.']);
    await c.expect('b7 ENABLE CONDSTORE UTF8=ACCEPT X-UNKNOWN', [
      '* ENABLED CONDSTORE UTF8=ACCEPT',
      'b7 OK Enable completed.',
    ]);
    await c.expect('b8 ENABLE CONDSTORE', ['* ENABLED', 'b8 OK Enable completed.']);
    c.close();
  });

  it('closes a connection after too many failed logins', async () => {
    const c = await ImapTestClient.connect(s.port);
    for (let i = 1; i < 5; i++) {
      await c.expect(`f${i} LOGIN ${USER} bad${i}`, [
        `f${i} NO [AUTHENTICATIONFAILED] Authentication failed.`,
      ]);
    }
    await c.expect(`f5 LOGIN ${USER} bad5`, ['f5 NO [AUTHENTICATIONFAILED] Authentication failed.']);
    assert.equal(await c.readLine(), '* BYE Too many failed logins.');
    await c.waitClosed();
  });

  it('AUTHENTICATE PLAIN with SASL-IR and as a continuation; cancel with *', async () => {
    const c = await ImapTestClient.connect(s.port);
    c.write('c1 AUTHENTICATE PLAIN\r\n');
    assert.equal(await c.readLine(), '+ ');
    c.write('*\r\n');
    assert.equal(await c.readLine(), 'c1 BAD Authentication aborted by client.');
    c.write('c2 AUTHENTICATE PLAIN\r\n');
    assert.equal(await c.readLine(), '+ ');
    c.write(b64(`\0${USER}\0${PASS}`) + '\r\n');
    assert.match(await c.readLine(), /^c2 OK \[CAPABILITY IMAP4rev1 .*\] Logged in$/);
    c.close();
    const d = await ImapTestClient.connect(s.port);
    await d.expect(`d1 AUTHENTICATE PLAIN ${b64(`${USER}\0${USER}\0nope`)}`, [
      'd1 NO [AUTHENTICATIONFAILED] Authentication failed.',
    ]);
    await d.expect(`d2 AUTHENTICATE PLAIN ${b64(`\0${USER}\0${PASS}`)}`, [
      /^d2 OK \[CAPABILITY .*\] Logged in$/,
    ]);
    await d.expect('d3 NOOP', ['d3 OK Noop completed.']);
    d.close();
  });

  it('COMPRESS=DEFLATE switches both directions to deflate', async () => {
    const c = await s.login();
    const caps = await c.cmd('z0 CAPABILITY');
    assert.match(caps[0]!, / COMPRESS=DEFLATE/);
    await c.expect('z1 COMPRESS DEFLATE', ['z1 OK DEFLATE active']);
    c.close();
    // Raw socket with zlib both ways.
    const raw = netConnect({ port: s.port, host: '127.0.0.1' });
    let text = '';
    const inflate = createInflateRaw();
    let compressed = false;
    const got = (pred: (t: string) => boolean): Promise<void> =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('timeout: ' + text)), 3000);
        const check = (): void => {
          if (pred(text)) {
            clearTimeout(t);
            resolve();
          } else setTimeout(check, 5);
        };
        check();
      });
    raw.on('data', (d: Buffer) => {
      if (compressed) inflate.write(d);
      else text += d.toString('latin1');
    });
    inflate.on('data', (d: Buffer) => (text += d.toString('latin1')));
    await got((t) => t.includes('Lockbridge ready'));
    raw.write(`y1 LOGIN ${USER} ${PASS}\r\ny2 COMPRESS DEFLATE\r\n`);
    await got((t) => t.includes('y2 OK DEFLATE active\r\n'));
    compressed = true;
    const deflate = createDeflateRaw();
    deflate.on('data', (d: Buffer) => raw.write(d));
    deflate.write('y3 NOOP\r\ny4 LIST "" INBOX\r\n');
    deflate.flush(zc.Z_SYNC_FLUSH);
    await got((t) => t.includes('y4 OK'));
    assert.match(
      text,
      /y3 OK Noop completed\.\r\n\* LIST \(\\HasNoChildren\) "\/" INBOX\r\ny4 OK List completed\./,
    );
    raw.destroy();
  });
});

describe('IMAP over TLS', () => {
  let s: TestServer;
  let tlsServer: TestServer;
  before(async () => {
    const m = await createLocalTls();
    const tls = { key: m.keyPem, cert: m.certPem };
    s = await startTestServer({ tls, allowPlaintextLogin: false });
    tlsServer = await startTestServer({ tls, implicitTls: true, allowPlaintextLogin: false });
  });
  after(async () => {
    await s.close();
    await tlsServer.close();
  });

  it('refuses plaintext login before STARTTLS and accepts it after', async () => {
    const c = await ImapTestClient.connect(s.port, { greeting: false });
    assert.equal(
      await c.readLine(),
      `* OK [CAPABILITY ${PRE_CAPS} STARTTLS LOGINDISABLED] Lockbridge ready.`,
    );
    await c.expect(`t1 LOGIN ${USER} ${PASS}`, [
      't1 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure connections.',
    ]);
    await c.expect(`t2 AUTHENTICATE PLAIN ${b64(`\0${USER}\0${PASS}`)}`, [
      't2 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure connections.',
    ]);
    await c.expect('t3 STARTTLS', ['t3 OK Begin TLS negotiation now.']);
    await c.startTls();
    await c.expect('t4 CAPABILITY', [`* CAPABILITY ${PRE_CAPS} AUTH=PLAIN`, 't4 OK Capability completed.']);
    await c.expect('t5 STARTTLS', ['t5 BAD TLS is already active.']);
    await c.expect(`t6 LOGIN ${USER} ${PASS}`, [/^t6 OK \[CAPABILITY .*\] Logged in$/]);
    await c.expect('t7 SELECT INBOX', [
      /^\* FLAGS/,
      /PERMANENTFLAGS/,
      '* 0 EXISTS',
      '* 0 RECENT',
      /UIDVALIDITY 1000/,
      /UIDNEXT 1/,
      /HIGHESTMODSEQ/,
      /^\* OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Ok$/,
      't7 OK [READ-WRITE] Select completed.',
    ]);
    c.close();
  });

  it('drops plaintext commands pipelined after STARTTLS', async () => {
    const c = await ImapTestClient.connect(s.port);
    c.write(`p1 STARTTLS\r\np2 LOGIN ${USER} ${PASS}\r\n`);
    assert.equal(await c.readLine(), 'p1 OK Begin TLS negotiation now.');
    await c.startTls();
    await c.expect('p3 NOOP', ['p3 OK Noop completed.']);
    await c.expect('p4 NAMESPACE', ['p4 BAD NAMESPACE not allowed now: please log in first.']);
    c.close();
  });

  it('implicit TLS', async () => {
    const c = await ImapTestClient.connect(tlsServer.port, { tls: true, greeting: false });
    assert.equal(await c.readLine(), `* OK [CAPABILITY ${PRE_CAPS} AUTH=PLAIN] Lockbridge ready.`);
    await c.expect(`i1 LOGIN ${USER} ${PASS}`, [/^i1 OK \[CAPABILITY .*\] Logged in$/]);
    c.close();
  });
});

describe('failed logins (issue 14 item 11)', () => {
  it('never refuses the right password, however many failures came before; failures are logged', async () => {
    const logs: { level: string; msg: string | undefined; obj: Record<string, unknown> }[] = [];
    const at =
      (level: string) =>
      (obj: object, msg?: string): void => {
        logs.push({ level, msg, obj: obj as Record<string, unknown> });
      };
    const logger: Logger = {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: () => logger,
    };
    const s = await startTestServer({
      logger,
      throttle: { baseDelayMs: 1, maxDelayMs: 2, globalLimit: 3, windowMs: 60_000 },
    });
    try {
      for (let i = 0; i < 10; i++) {
        const c = await ImapTestClient.connect(s.port);
        await c.expect(`g${i} LOGIN ${USER} bad`, [`g${i} NO [AUTHENTICATIONFAILED] Authentication failed.`]);
        c.close();
      }
      const c = await ImapTestClient.connect(s.port);
      await c.expect(`g9 LOGIN ${USER} ${PASS}`, [/^g9 OK \[CAPABILITY .*\] Logged in$/]);
      c.close();
      const failed = logs.filter((l) => l.msg === 'failed local IMAP login');
      assert.equal(failed.length, 10);
      assert.equal(failed[0]!.obj.remote, '127.0.0.1');
      assert.equal(JSON.stringify(logs).includes('bad'), false, 'no password in the log');
      assert.equal(logs.filter((l) => /many failed local IMAP logins/.test(l.msg ?? '')).length, 1);
    } finally {
      await s.close();
    }
  });

  it('closes a connection after five failures, with a growing delay', async () => {
    const s = await startTestServer({ throttle: { baseDelayMs: 1, maxDelayMs: 4 } });
    try {
      const c = await ImapTestClient.connect(s.port);
      for (let i = 1; i < 5; i++)
        await c.expect(`f${i} LOGIN ${USER} bad`, [`f${i} NO [AUTHENTICATIONFAILED] Authentication failed.`]);
      await c.expect(`f5 LOGIN ${USER} bad`, ['f5 NO [AUTHENTICATIONFAILED] Authentication failed.']);
      assert.equal(await c.readLine(), '* BYE Too many failed logins.');
      await c.waitClosed();
    } finally {
      await s.close();
    }
  });
});

describe('connection limit', () => {
  it('refuses connections beyond maxConnections with BYE when every connection is logged in', async () => {
    const s = await startTestServer({ maxConnections: 1 });
    try {
      const a = await s.login();
      const b = await ImapTestClient.connect(s.port, { greeting: false });
      assert.equal(await b.readLine(), '* BYE Too many connections.');
      await b.waitClosed();
      await a.expect('n1 NOOP', ['n1 OK Noop completed.']);
      a.close();
    } finally {
      await s.close();
    }
  });
});

describe('timeouts', () => {
  it('drops an idle connection before login after preAuthTimeoutMs', async () => {
    const s = await startTestServer({ preAuthTimeoutMs: 150 });
    try {
      const c = await ImapTestClient.connect(s.port);
      assert.equal(await c.readLine(2000), '* BYE Disconnected for inactivity.');
      await c.waitClosed();
      const d = await s.login();
      await new Promise((r) => setTimeout(r, 300));
      await d.expect('t1 NOOP', ['t1 OK Noop completed.']);
      d.close();
    } finally {
      await s.close();
    }
  });
});

describe('internal errors', () => {
  it('a command failing mid-response ends the connection instead of corrupting the stream', async () => {
    const s = await startTestServer();
    try {
      s.account.deliver('INBOX', 'Subject: x\r\n\r\nbody\r\n');
      const c = await s.login();
      await c.cmd('e0 SELECT INBOX');
      await c.expect('e1 FETCH 1 (FLAGS)', ['* 1 FETCH (FLAGS ())', 'e1 OK Fetch completed.']);
      // Simulate a backend bug: a row that cannot be serialised.
      const realFetch = s.account.fetch.bind(s.account);
      s.account.fetch = (id, uids, want) =>
        realFetch(id, uids, want).map((r) =>
          Object.defineProperty({ ...r }, 'envelope', {
            get() {
              throw new Error('unserialisable row');
            },
          }),
        );
      c.write('e2 FETCH 1 (UID ENVELOPE)\r\n');
      assert.equal(await c.readLine(), '* 1 FETCH (UID 1 ');
      assert.equal(await c.readLine(), '* BYE Internal error, closing the connection.');
      await c.waitClosed();
    } finally {
      await s.close();
    }
  });

  it('an unexpected error before any output is a tagged NO [SERVERBUG]', async () => {
    const s = await startTestServer();
    try {
      const c = await s.login();
      s.account.status = () => {
        throw new Error('boom');
      };
      await c.expect('e3 STATUS INBOX (MESSAGES)', [
        'e3 NO [SERVERBUG] Internal error occurred. Refer to server log for more information.',
      ]);
      await c.expect('e4 NOOP', ['e4 OK Noop completed.']);
      c.close();
    } finally {
      await s.close();
    }
  });
});
