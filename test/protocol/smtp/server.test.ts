import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { startSmtpServer, type RunningSmtpServer } from '../../../app/smtp/server.ts';
import { AuthThrottle } from '../../../app/smtp/auth-throttle.ts';
import { EncryptionRequiredError, TemporarySubmissionError } from '../../../app/smtp/errors.ts';
import { createLocalTls, type LocalTlsMaterial } from '../../../app/crypto/local-ca.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { RawSmtpClient, b64 } from './raw-client.ts';
import { FakeSubmissionPort } from './fake-port.ts';

const USER = 'alice@example.org';
const PASS = 'local-secret';
const SIZE = 200_000;

function msg(headers: string, body = 'Hello.\r\n'): string {
  return headers.replace(/\n/g, '\r\n') + '\r\n' + body;
}

const GOOD = msg(
  'From: Alice <alice@example.org>\nTo: bob@example.net\nSubject: hi\nDate: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <m1@example.org>\n',
  'Hello Bob.\r\n..leading dot\r\n',
);

describe('SMTP submission server (raw transcripts)', () => {
  let mat: LocalTlsMaterial;
  let port: FakeSubmissionPort;
  let srv: RunningSmtpServer;
  let throttle: AuthThrottle;

  before(async () => {
    mat = await createLocalTls();
    port = new FakeSubmissionPort();
    throttle = new AuthThrottle({ freeFailures: 2, baseDelayMs: 300, maxDelayMs: 1000 });
    srv = await startSmtpServer({
      submission: port,
      logger: silentLogger,
      port: 0,
      tls: { cert: mat.certPem, key: mat.keyPem },
      maxMessageSize: SIZE,
      maxRecipients: 500,
      throttle,
      closeTimeoutMs: 500,
    });
  });
  after(async () => {
    await srv.close();
  });
  beforeEach(() => {
    port.submitted.length = 0;
    port.failWith = null;
  });

  /** Connects, upgrades with STARTTLS, EHLOs and logs in with PLAIN. */
  async function loggedIn(): Promise<RawSmtpClient> {
    const c = await RawSmtpClient.connect(srv.port);
    assert.match((await c.reply())[0]!, /^220 /);
    await c.cmd('EHLO [127.0.0.1]');
    assert.equal(await c.cmd1('STARTTLS'), '220 2.0.0 Ready to start TLS');
    await c.startTls(mat.caCertPem);
    await c.cmd('EHLO [127.0.0.1]');
    assert.equal(
      await c.cmd1('AUTH PLAIN ' + b64(`\0${USER}\0${PASS}`)),
      '235 2.7.0 Authentication successful',
    );
    return c;
  }

  it('greets with 220 and advertises the capabilities Thunderbird parses', async () => {
    const c = await RawSmtpClient.connect(srv.port);
    const greet = await c.reply();
    assert.equal(greet.length, 1);
    assert.match(greet[0]!, /^220 localhost ESMTP Lockbridge$/);
    const ehlo = await c.cmd('EHLO [127.0.0.1]');
    assert.match(ehlo[0]!, /^250-localhost /);
    assert.deepEqual(ehlo.slice(1), [
      '250-PIPELINING',
      '250-8BITMIME',
      '250-SMTPUTF8',
      '250-ENHANCEDSTATUSCODES',
      '250-STARTTLS',
      `250 SIZE ${SIZE}`,
    ]);
    // AUTH is not offered before STARTTLS (issue 14 item 13), and refused if sent anyway
    assert.match(await c.cmd1('AUTH PLAIN ' + b64(`\0${USER}\0${PASS}`)), /^5\d\d /);
    assert.match(await c.cmd1('MAIL FROM:<alice@example.org>'), /^530 /);
    assert.match(await c.cmd1('QUIT'), /^221 /);
    c.close();
  });

  it('AUTH LOGIN sends exactly the challenges Thunderbird checks', async () => {
    const c = await RawSmtpClient.connect(srv.port);
    await c.reply();
    await c.cmd('EHLO [127.0.0.1]');
    await c.cmd('STARTTLS');
    await c.startTls(mat.caCertPem);
    const ehlo = await c.cmd('EHLO [127.0.0.1]');
    assert.ok(ehlo.includes('250-AUTH PLAIN LOGIN'));
    assert.ok(!ehlo.some((l) => l.includes('STARTTLS')), 'no STARTTLS after the upgrade');
    assert.equal(await c.cmd1('AUTH LOGIN'), '334 VXNlcm5hbWU6');
    assert.equal(await c.cmd1(b64(USER)), '334 UGFzc3dvcmQ6');
    assert.equal(await c.cmd1(b64(PASS)), '235 2.7.0 Authentication successful');
    // EHLO after login no longer offers AUTH; a second AUTH is refused
    assert.ok(!(await c.cmd('EHLO [127.0.0.1]')).some((l) => l.includes('AUTH')));
    assert.match(await c.cmd1('AUTH PLAIN ' + b64(`\0${USER}\0${PASS}`)), /^503 /);
    c.close();
  });

  it('rejects a wrong password with 535 and throttles repeated failures', async () => {
    const c = await RawSmtpClient.connect(srv.port);
    await c.reply();
    await c.cmd('EHLO x.example');
    await c.cmd('STARTTLS');
    await c.startTls(mat.caCertPem);
    await c.cmd('EHLO x.example');
    const user = 'mallory@example.org';
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t0 = Date.now();
      const r = await c.cmd1('AUTH PLAIN ' + b64(`\0${user}\0guess${i}`));
      times.push(Date.now() - t0);
      assert.match(r, /^535 5\.7\.8 authentication failed/);
    }
    assert.ok(times[2]! >= 280, `third failure is delayed: ${times.join(',')}`);
    assert.ok(times[3]! >= 580, `fourth failure waits longer: ${times.join(',')}`);
    c.close();
    throttle.succeeded([`user:${user}`, 'addr:127.0.0.1']);
  });

  it('accepts a valid message only after submit resolved, dot-unstuffed, CRLF', async () => {
    const c = await loggedIn();
    port.submitDelayMs = 150;
    assert.equal(await c.cmd1('MAIL FROM:<alice@example.org> BODY=8BITMIME SIZE=500'), '250 2.1.0 Accepted');
    assert.equal(await c.cmd1('RCPT TO:<bob@example.net>'), '250 2.1.5 Accepted');
    assert.equal(await c.cmd1('RCPT TO:<carol@example.com>'), '250 2.1.5 Accepted');
    assert.equal(await c.cmd1('DATA'), '354 End data with <CR><LF>.<CR><LF>');
    const t0 = Date.now();
    const r = await c.cmd1(GOOD + '.');
    assert.ok(Date.now() - t0 >= 140, '250 waits for submit');
    port.submitDelayMs = 0;
    assert.equal(r, '250 2.6.0 queued as q1');
    assert.equal(port.submitted.length, 1);
    const s = port.submitted[0]!;
    assert.equal(s.account, USER);
    assert.deepEqual(s.envelope, {
      mailFrom: 'alice@example.org',
      rcptTo: ['bob@example.net', 'carol@example.com'],
    });
    assert.equal(s.raw.toString(), GOOD.replace('..leading', '.leading'));
    // a second transaction on the same connection (Thunderbird reuses connections)
    assert.equal(await c.cmd1('MAIL FROM:<alice.alias@example.org>'), '250 2.1.0 Accepted');
    assert.equal(await c.cmd1('RCPT TO:<bob@example.net>'), '250 2.1.5 Accepted');
    assert.equal(await c.cmd1('RSET'), '250 2.0.0 Flushed');
    assert.match(await c.cmd1('DATA'), /^503 /);
    c.close();
  });

  it('refuses a sender that is not one of the account addresses (553 with the reason)', async () => {
    const c = await loggedIn();
    assert.equal(
      await c.cmd1('MAIL FROM:<ceo@example.org>'),
      '553 5.1.3 <ceo@example.org>: ceo@example.org is not an address of account alice@example.org',
    );
    // envelope OK but the From header names someone else
    await c.cmd('MAIL FROM:<alice@example.org>');
    await c.cmd('RCPT TO:<bob@example.net>');
    await c.cmd('DATA');
    const r = await c.cmd1(msg('From: ceo@example.org\nTo: bob@example.net\nSubject: x\n') + '.');
    assert.equal(r, '553 5.1.3 From header: ceo@example.org is not an address of account alice@example.org');
    assert.equal(port.submitted.length, 0);
    c.close();
  });

  it('refuses invalid and unknown recipient domains with 550 naming the recipient', async () => {
    const c = await loggedIn();
    await c.cmd('MAIL FROM:<alice@example.org>');
    assert.equal(
      await c.cmd1('RCPT TO:<x@host.invalid>'),
      '550 5.1.1 <x@host.invalid>: unknown domain "host.invalid" (.invalid never exists)',
    );
    assert.match(await c.cmd1('RCPT TO:<x@bad_domain.com>'), /^50[01] /); // smtp-server's own syntax check
    assert.match(await c.cmd1('RCPT TO:<x@a..b.com>'), /^(550 5\.1\.1 <x@a\.\.b\.com>: invalid domain|501 )/);
    assert.match(await c.cmd1('RCPT TO:<x@-bad.com>'), /^(550 5\.1\.1 <x@-bad\.com>: invalid domain|501 )/);
    assert.match(
      await c.cmd1('RCPT TO:<x@intranet>'),
      /^550 5\.1\.1 <x@intranet>: unknown domain "intranet"/,
    );
    assert.equal(
      await c.cmd1('RCPT TO:<y@nxdomain.example>'),
      '550 5.1.1 <y@nxdomain.example>: domain nxdomain.example does not exist',
    );
    assert.match(await c.cmd1('RCPT TO:<jörg@example.de>'), /^550 .*needs SMTPUTF8/);
    assert.match(await c.cmd1('DATA'), /^503 /);
    c.close();
  });

  it('caps recipients: 1,000 pipelined RCPTs → 500 accepted, the rest 452', async () => {
    const c = await loggedIn();
    await c.cmd('MAIL FROM:<alice@example.org>');
    let cmds = '';
    for (let i = 0; i < 1000; i++) cmds += `RCPT TO:<r${i}@example.net>\r\n`;
    c.write(cmds);
    const replies: string[] = [];
    for (let i = 0; i < 1000; i++) replies.push((await c.reply())[0]!);
    assert.equal(replies.filter((r) => r === '250 2.1.5 Accepted').length, 500);
    assert.equal(replies.filter((r) => r === '452 4.5.3 Error: too many recipients').length, 500);
    await c.cmd('DATA');
    assert.equal(await c.cmd1(GOOD + '.'), '250 2.6.0 queued as q1');
    assert.equal(port.submitted[0]!.envelope.rcptTo.length, 500);
    c.close();
  });

  async function sendData(c: RawSmtpClient, data: string | Buffer, mailArgs = ''): Promise<string> {
    assert.match(await c.cmd1('MAIL FROM:<alice@example.org>' + mailArgs), /^250 /);
    assert.match(await c.cmd1('RCPT TO:<bob@example.net>'), /^250 /);
    assert.match(await c.cmd1('DATA'), /^354 /);
    c.write(data);
    return c.cmd1('.');
  }

  it('refuses bad messages with clear replies and submits nothing', async () => {
    const c = await loggedIn();
    assert.equal(
      await sendData(c, msg('To: bob@example.net\nSubject: no from\n')),
      '554 5.6.0 the message has no From header',
    );
    assert.match(
      await sendData(c, Buffer.from(msg('From: alice@example.org\nSubject: Grüße\n'), 'utf8')),
      /^554 5\.6\.0 8-bit characters in the subject header need SMTPUTF8/,
    );
    assert.match(
      await sendData(c, msg('From: alice@example.org\nSubject: long\n', 'x'.repeat(999) + '\r\n')),
      /^554 5\.6\.0 line 4 is longer than 998 octets/,
    );
    assert.match(
      await sendData(
        c,
        msg(
          'From: alice@example.org\nContent-Type: multipart/mixed; boundary="b1"\n',
          '--b1\r\n\r\npart\r\n',
        ),
      ),
      /^554 5\.6\.0 broken MIME: the multipart\/mixed part has no closing boundary/,
    );
    assert.match(
      await sendData(c, msg('From: alice@example.org\nContent-Type: multipart/mixed\n', 'x\r\n')),
      /^554 5\.6\.0 broken MIME: multipart\/mixed without a boundary/,
    );
    assert.match(
      await sendData(c, msg('From: alice@example.org\nthis is not a header\n')),
      /^554 5\.6\.0 message header: a line is neither a header field nor a continuation/,
    );
    assert.equal(port.submitted.length, 0);
    c.close();
  });

  it('accepts UTF-8 headers with SMTPUTF8 and nested valid MIME', async () => {
    const c = await loggedIn();
    const body =
      '--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n--b1\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\n\r\nx\r\n--b2--\r\n--b1--\r\n';
    const m = msg(
      'From: Jörg <alice@example.org>\nSubject: Grüße\nContent-Type: multipart/mixed; boundary="b1"\n',
      body,
    );
    assert.equal(await sendData(c, Buffer.from(m, 'utf8'), ' SMTPUTF8'), '250 2.6.0 queued as q1');
    assert.equal(port.submitted[0]!.smtpUtf8, true);
    assert.equal(port.submitted[0]!.raw.toString('utf8'), m);
    c.close();
  });

  it('refuses an oversized message with 552 (declared SIZE and actual bytes)', async () => {
    const c = await loggedIn();
    assert.match(await c.cmd1(`MAIL FROM:<alice@example.org> SIZE=${SIZE + 1}`), /^552 5\.3\.4 /);
    const big = msg('From: alice@example.org\n', ('y'.repeat(76) + '\r\n').repeat(Math.ceil(SIZE / 78) + 10));
    assert.match(await sendData(c, big), /^552 5\.3\.4 Error: message exceeds fixed maximum message size/);
    assert.equal(port.submitted.length, 0);
    // the connection is still usable
    assert.equal(await sendData(c, GOOD), '250 2.6.0 queued as q1');
    c.close();
  });

  it('maps port errors: encryption required → 550 naming the recipient; unexpected → 451', async () => {
    const c = await loggedIn();
    port.failWith = new EncryptionRequiredError([
      { address: 'bob@example.net', reason: 'no OpenPGP key found' },
    ]);
    assert.equal(
      await sendData(c, GOOD),
      '550 5.1.1 encryption required but not possible for <bob@example.net> (no OpenPGP key found); nothing was sent',
    );
    port.failWith = new TemporarySubmissionError('the store is busy');
    assert.equal(await sendData(c, GOOD), '451 4.3.0 the store is busy; try again later');
    port.failWith = new Error('boom with secret details');
    assert.equal(
      await sendData(c, GOOD),
      '451 4.3.0 local error while queueing the message; nothing was sent, try again later',
    );
    c.close();
  });

  it('pipelines MAIL/RCPT/DATA in one write', async () => {
    const c = await loggedIn();
    c.write(
      'MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nRCPT TO:<x@host.invalid>\r\nDATA\r\n',
    );
    const r = [(await c.reply())[0], (await c.reply())[0], (await c.reply())[0], (await c.reply())[0]];
    assert.deepEqual(
      r.map((l) => l!.slice(0, 3)),
      ['250', '250', '550', '354'],
    );
    assert.equal(await c.cmd1(GOOD + '.'), '250 2.6.0 queued as q1');
    assert.deepEqual(port.submitted[0]!.envelope.rcptTo, ['bob@example.net']);
    c.close();
  });
});

describe('SMTP submission server: implicit TLS, plaintext mode, nodemailer client', () => {
  let mat: LocalTlsMaterial;
  before(async () => {
    mat = await createLocalTls();
  });

  it('serves implicit TLS with the local certificate (no STARTTLS offered)', async () => {
    const port = new FakeSubmissionPort();
    const srv = await startSmtpServer({
      submission: port,
      logger: silentLogger,
      port: 0,
      tls: { cert: mat.certPem, key: mat.keyPem },
      implicitTls: true,
    });
    try {
      const c = await RawSmtpClient.connect(srv.port, { tls: { ca: mat.caCertPem } });
      assert.match((await c.reply())[0]!, /^220 /);
      const ehlo = await c.cmd('EHLO [127.0.0.1]');
      assert.ok(!ehlo.some((l) => l.includes('STARTTLS')));
      assert.ok(ehlo.includes('250-AUTH PLAIN LOGIN'));
      assert.equal(
        await c.cmd1('AUTH PLAIN ' + b64(`\0${USER}\0${PASS}`)),
        '235 2.7.0 Authentication successful',
      );
      c.close();
    } finally {
      await srv.close();
    }
  });

  it('allows AUTH on plain loopback when configured, and nodemailer sends with PLAIN and LOGIN', async () => {
    const port = new FakeSubmissionPort();
    const srv = await startSmtpServer({
      submission: port,
      logger: silentLogger,
      port: 0,
      tls: { cert: mat.certPem, key: mat.keyPem },
      allowPlaintextAuth: true,
    });
    try {
      for (const method of ['PLAIN', 'LOGIN']) {
        const t = nodemailer.createTransport({
          host: '127.0.0.1',
          port: srv.port,
          secure: false,
          ignoreTLS: true,
          auth: { user: USER, pass: PASS },
          authMethod: method,
        });
        const info = await t.sendMail({
          from: 'Alice <alice@example.org>',
          to: 'bob@example.net',
          cc: 'carol@example.com',
          bcc: 'dave@example.com',
          subject: `via ${method}`,
          text: 'x'.repeat(5000),
        });
        assert.match(info.response, /^250 2\.6\.0 queued as q\d$/);
        t.close();
      }
      assert.equal(port.submitted.length, 2);
      assert.deepEqual(port.submitted[0]!.envelope.rcptTo, [
        'bob@example.net',
        'carol@example.com',
        'dave@example.com',
      ]);
      assert.doesNotMatch(port.submitted[0]!.raw.toString(), /^Bcc:/im);
      // nodemailer with STARTTLS trusting only the local CA
      const t = nodemailer.createTransport({
        host: '127.0.0.1',
        port: srv.port,
        secure: false,
        requireTLS: true,
        tls: { ca: mat.caCertPem, servername: 'localhost' },
        auth: { user: USER, pass: PASS },
      });
      const info = await t.sendMail({ from: USER, to: 'bob@example.net', subject: 'tls', text: 'hi' });
      assert.match(info.response, /^250 /);
      t.close();
      // wrong password through nodemailer
      const bad = nodemailer.createTransport({
        host: '127.0.0.1',
        port: srv.port,
        ignoreTLS: true,
        auth: { user: USER, pass: 'nope' },
      });
      await assert.rejects(bad.sendMail({ from: USER, to: 'bob@example.net', text: 'x' }), /535/);
      bad.close();
    } finally {
      await srv.close();
    }
  });

  it('without TLS material offers no STARTTLS and allows loopback AUTH', async () => {
    const port = new FakeSubmissionPort();
    const srv = await startSmtpServer({ submission: port, logger: silentLogger, port: 0 });
    try {
      const c = await RawSmtpClient.connect(srv.port);
      await c.reply();
      const ehlo = await c.cmd('EHLO [127.0.0.1]');
      assert.ok(!ehlo.some((l) => l.includes('STARTTLS')));
      assert.match(await c.cmd1('STARTTLS'), /^5\d\d /);
      assert.equal(await c.cmd1('AUTH LOGIN'), '334 VXNlcm5hbWU6');
      assert.equal(await c.cmd1(b64(USER)), '334 UGFzc3dvcmQ6');
      assert.equal(await c.cmd1(b64(PASS)), '235 2.7.0 Authentication successful');
      c.close();
    } finally {
      await srv.close();
    }
  });

  it('listens on 127.0.0.1 only', async () => {
    const srv = await startSmtpServer({
      submission: new FakeSubmissionPort(),
      logger: silentLogger,
      port: 0,
    });
    try {
      const local = await RawSmtpClient.connect(srv.port);
      assert.match((await local.reply())[0]!, /^220 /);
      local.close();
      const { networkInterfaces } = await import('node:os');
      const other = Object.values(networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal);
      if (other) {
        const net = await import('node:net');
        const err = await new Promise<string>((resolve) => {
          const s = net.connect({ host: other.address, port: srv.port });
          s.on('connect', () => {
            s.destroy();
            resolve('connected');
          });
          s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        });
        assert.equal(err, 'ECONNREFUSED');
      }
    } finally {
      await srv.close();
    }
  });
});
