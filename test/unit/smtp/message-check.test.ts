import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkMessage } from '../../../app/smtp/message-check.ts';
import { recipientProblem } from '../../../app/smtp/address-check.ts';
import { AuthThrottle } from '../../../app/smtp/auth-throttle.ts';
import { InvalidMessageError, Utf8RequiredError } from '../../../app/smtp/errors.ts';

describe('message checks', () => {
  it('returns the message with CRLF line endings', () => {
    const r = checkMessage(Buffer.from('From: a@x.org\n\nbody\r\nline\n'), { smtpUtf8: false });
    assert.equal(r.raw.toString(), 'From: a@x.org\r\n\r\nbody\r\nline\r\n');
  });

  it('returns the From addresses, groups flattened', () => {
    const r = checkMessage(Buffer.from('From: "Doe, A" <a@x.org>, b@y.org\r\nSubject: s\r\n\r\nbody\r\n'), {
      smtpUtf8: false,
    });
    assert.deepEqual(r.headerFrom, ['a@x.org', 'b@y.org']);
  });

  it('reads the From address in <...> after an unquoted name that looks like an address', () => {
    // what the recipient's mail client shows and replies to (nodemailer's parser, used here before
    // the one address parser, read it so too): the From check must judge that address
    const r = checkMessage(Buffer.from('From: me@mine.org <other@x.org>\r\nSubject: s\r\n\r\nbody\r\n'), {
      smtpUtf8: false,
    });
    assert.deepEqual(r.headerFrom, ['other@x.org']);
  });

  it('accepts a header-only message and folded headers', () => {
    const r = checkMessage(Buffer.from('From: a@x.org\r\nSubject: one\r\n two\r\n'), { smtpUtf8: false });
    assert.deepEqual(r.headerFrom, ['a@x.org']);
  });

  it('refuses duplicates, 8-bit without SMTPUTF8, invalid UTF-8, empty From', () => {
    const bad: [string | Buffer, boolean, RegExp, typeof InvalidMessageError][] = [
      ['From: a@x.org\r\nFrom: b@x.org\r\n\r\n', false, /more than one From/, InvalidMessageError],
      [
        'From: a@x.org\r\nSubject: a\r\nSubject: b\r\n\r\n',
        false,
        /more than one subject/,
        InvalidMessageError,
      ],
      [Buffer.from('From: a@x.org\r\nTo: Jörg <j@x.org>\r\n\r\n'), false, /need SMTPUTF8/, Utf8RequiredError],
      [
        Buffer.from([...Buffer.from('From: a@x.org\r\nSubject: '), 0xff, 0xfe, 13, 10, 13, 10]),
        true,
        /not valid UTF-8/,
        InvalidMessageError,
      ],
      ['From: undisclosed\r\n\r\n', false, /no valid address/, InvalidMessageError],
      [' folded: first\r\nFrom: a@x.org\r\n\r\n', false, /continuation/, InvalidMessageError],
    ];
    for (const [m, utf8, re, cls] of bad) {
      assert.throws(
        () => checkMessage(Buffer.isBuffer(m) ? m : Buffer.from(m), { smtpUtf8: utf8 }),
        (e: unknown) => {
          assert.ok(e instanceof cls, String(e));
          assert.match((e as Error).message, re);
          return true;
        },
      );
    }
  });

  it('checks message/rfc822 and nested multipart structure', () => {
    const ok =
      'From: a@x.org\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\npreamble\r\n--o\r\nContent-Type: message/rfc822\r\n\r\nFrom: c@d.org\r\nSubject: inner\r\n\r\nbody\r\n--o--\r\nepilogue\r\n';
    assert.deepEqual(checkMessage(Buffer.from(ok), { smtpUtf8: false }).headerFrom, ['a@x.org']);
    const broken = ok.replace('Subject: inner', 'not a header line');
    assert.throws(() => checkMessage(Buffer.from(broken), { smtpUtf8: false }), /attached message header/);
  });

  it('reads Content-Type like RFC 2045: comments are no part of the type, RFC 2231 boundaries join', () => {
    const ok = (m: string) => checkMessage(Buffer.from(m), { smtpUtf8: false }).headerFrom;
    assert.deepEqual(ok('From: a@x.org\r\nContent-Type: text/plain (a comment)\r\n\r\nbody\r\n'), [
      'a@x.org',
    ]);
    const multi =
      'From: a@x.org\r\nContent-Type: multipart/mixed (c); boundary=o\r\n\r\n--o\r\n\r\none\r\n--o--\r\n';
    assert.deepEqual(ok(multi), ['a@x.org']);
    // it is read as a multipart: its structure is checked
    assert.throws(() => ok(multi.replace('--o--', '--x--')), /no closing boundary "--o--"/);
    const split =
      'From: a@x.org\r\nContent-Type: multipart/mixed; boundary*0="ab"; boundary*1="cd"\r\n\r\n--abcd\r\n\r\none\r\n--abcd--\r\n';
    assert.deepEqual(ok(split), ['a@x.org']);
  });

  it('From: groups, comments and encoded words in the display name', () => {
    const from = (v: string) =>
      checkMessage(Buffer.from(`From: ${v}\r\n\r\n`), { smtpUtf8: false }).headerFrom;
    assert.deepEqual(from('Team: a@x.org, "Doe, B" <b@y.org>;'), ['a@x.org', 'b@y.org']);
    assert.deepEqual(from('a@x.org (Doe, A)'), ['a@x.org']);
    assert.deepEqual(from('=?utf-8?q?Doe=2C_A?= <a@x.org>'), ['a@x.org']);
    assert.deepEqual(from('"a@evil.org" <a@x.org>'), ['a@x.org']);
  });

  it('recipient syntax: IDN with SMTPUTF8, address literals, reserved names', () => {
    assert.equal(recipientProblem('a@bücher.de', true), null);
    assert.match(recipientProblem('a@bücher.de', false)!, /SMTPUTF8/);
    assert.equal(recipientProblem('a@[127.0.0.1]', false), null);
    assert.equal(recipientProblem('a@localhost', false), null);
    assert.match(recipientProblem('a@x.invalid', false)!, /never exists/);
    assert.match(recipientProblem('a@x.123', false)!, /invalid domain/);
    assert.match(recipientProblem('nodomain', false)!, /not a valid address/);
    assert.match(recipientProblem('x'.repeat(65) + '@a.org', false)!, /64 octets/);
  });

  it('throttle: free failures, exponential delay, cap, reset on success and after the window', () => {
    let now = 0;
    const t = new AuthThrottle({
      freeFailures: 2,
      baseDelayMs: 100,
      maxDelayMs: 350,
      windowMs: 1000,
      now: () => now,
    });
    const k = ['user:a', 'addr:1'];
    assert.equal(t.delayFor(k), 0);
    t.failed(k);
    t.failed(k);
    assert.equal(t.delayFor(k), 100);
    t.failed(k);
    assert.equal(t.delayFor(k), 200);
    t.failed(k);
    assert.equal(t.delayFor(k), 350);
    assert.equal(t.delayFor(['user:other', 'addr:1']), 350, 'same remote address is throttled too');
    now = 2000;
    assert.equal(t.delayFor(k), 0, 'window expired');
    t.failed(k);
    t.failed(k);
    t.succeeded(k);
    assert.equal(t.delayFor(k), 0);
  });
});
