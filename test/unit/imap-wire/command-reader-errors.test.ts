import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CommandReader } from '../../../app/imap/wire/command-reader.ts';
import { feed, feedPlain, plainEvent } from './wire-helpers.ts';

const ev = (r: CommandReader, s: string | Buffer) =>
  r.push(typeof s === 'string' ? Buffer.from(s, 'latin1') : s).map((e) => plainEvent(e));

describe('CommandReader: syntax errors', () => {
  const bad: Array<[string, string | null]> = [
    ['a1 FETCH 1 (FLAGS\r\n', 'a1'],
    ['a2 FETCH 1 FLAGS)\r\n', 'a2'],
    ['a3 SELECT "unterminated\r\n', 'a3'],
    ['a4 SELECT "bad \\x escape"\r\n', 'a4'],
    ['a5 FETCH 1 BODY[HEADER\r\n', 'a5'],
    ['a6 FETCH 1 (BODY[]<1.x>)\r\n', 'a6'],
    ['a7 LOGIN {5}x\r\n', 'a7'],
    ['a8 NOOP\x01\r\n', 'a8'],
    ['a9\r\n', 'a9'],
    ['(bad tag) NOOP\r\n', null],
    [' NOOP\r\n', null],
    ['b1 SELECT \xc3\xa4\r\n', 'b1'],
    ['b2 FETCH 1 (FLAGS)(UID)\r\n', 'b2'],
    ['b3 NO\rOP\r\n', 'b3'],
    ['b4 SELECT a\rb\r\n', 'b4'],
    ['b5 UID\r\n', 'b5'],
    ['b6 FETCH 1 (BODY[1)]\r\n', 'b6'],
  ];
  for (const [input, tag] of bad) {
    it(`rejects ${JSON.stringify(input)} with tag ${tag}`, () => {
      const evs = feedPlain(input + 'z NOOP\r\n');
      assert.equal(evs.length, 2, JSON.stringify(evs));
      assert.deepEqual({ ...(evs[0] as object), code: undefined }, { err: tag, code: undefined });
      assert.deepEqual(evs[1], { cmd: ['z', 'NOOP'] }, 'the reader recovers for the next command');
    });
  }

  it('an HTTP request is fatal at once and the reader then ignores input', () => {
    const r = new CommandReader();
    const out = ev(r, 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n1 LOGIN a b\r\n');
    assert.deepEqual(out, [{ err: null, fatal: true, code: 'PARSE' }]);
    assert.ok(r.closed);
    assert.deepEqual(ev(r, '2 NOOP\r\n'), []);
  });

  it('a TLS ClientHello on the plaintext port is fatal without waiting for a line end', () => {
    const r = new CommandReader();
    const out = ev(r, Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
    assert.equal(out.length, 1);
    assert.deepEqual(out[0], { err: null, fatal: true, code: 'PARSE' });
  });

  it('binary junk gives untagged errors and turns fatal after too many in a row', () => {
    const r = new CommandReader({ maxConsecutiveErrors: 5 });
    const junk = Buffer.from('\x00\x01\xff\xfe\n'.repeat(10), 'latin1');
    const out = ev(r, junk);
    assert.equal(out.length, 5);
    assert.ok(
      out.slice(0, 4).every((e) => typeof e === 'object' && 'err' in e && e.err === null && !e.fatal),
    );
    assert.deepEqual(out[4], { err: null, fatal: true, code: 'PARSE' });
  });

  it('a good command resets the consecutive error count', () => {
    const r = new CommandReader({ maxConsecutiveErrors: 3 });
    const out = ev(r, '(\r\n(\r\n1 NOOP\r\n(\r\n(\r\n2 NOOP\r\n');
    assert.ok(out.every((e) => !(typeof e === 'object' && 'err' in e && e.fatal)));
    assert.equal(out.filter((e) => typeof e === 'object' && 'cmd' in e).length, 2);
  });

  it('a lone CR never ends a line and is reported', () => {
    const out = feedPlain('1 NOOP\r2 NOOP\r\n3 NOOP\r\n');
    assert.deepEqual(out, [{ err: '1', code: 'PARSE' }, { cmd: ['3', 'NOOP'] }]);
  });

  it('an error in a line announcing a LITERAL+ literal skips the literal and the rest of the command', () => {
    const out = feedPlain('a1 APPEND box (\\Seen) "bad\\q" {5+}\r\nhello {3+}\r\nabc\r\na2 NOOP\r\n');
    assert.deepEqual(out, [{ err: 'a1', code: 'PARSE' }, { cmd: ['a2', 'NOOP'] }]);
  });

  it('an error in a line announcing a synchronizing literal sends no continuation', () => {
    const out = feedPlain('a1 APPEND box (\\Seen) "bad\\q" {5}\r\na2 NOOP\r\n');
    assert.deepEqual(out, [{ err: 'a1', code: 'PARSE' }, { cmd: ['a2', 'NOOP'] }]);
  });
});

describe('CommandReader: limits', () => {
  it('a synchronizing literal over the limit: TOOBIG, no continuation, next command parses', () => {
    const r = new CommandReader({ maxLiteralSize: 100 });
    const out = r.push(Buffer.from('a1 APPEND INBOX {101}\r\na2 NOOP\r\n'));
    assert.equal(out.length, 2);
    const e = out[0]!;
    assert.ok(
      e.kind === 'error' && e.tag === 'a1' && e.code === 'TOOBIG' && !e.fatal && e.command === 'APPEND',
    );
    assert.deepEqual(plainEvent(out[1]!), { cmd: ['a2', 'NOOP'] });
  });

  it('a LITERAL+ literal over the limit is skipped without being buffered', () => {
    const r = new CommandReader({ maxLiteralSize: 100 });
    const out: ReturnType<typeof plainEvent>[] = [];
    out.push(...ev(r, 'a1 APPEND INBOX {100000+}\r\n'));
    let maxBuffered = 0;
    const block = Buffer.alloc(1000, 0x41);
    for (let i = 0; i < 100; i++) {
      out.push(...ev(r, block));
      maxBuffered = Math.max(maxBuffered, r.bufferedBytes);
    }
    out.push(...ev(r, '\r\na2 NOOP\r\n'));
    assert.deepEqual(out, [{ err: 'a1', code: 'TOOBIG' }, { cmd: ['a2', 'NOOP'] }]);
    assert.ok(maxBuffered < 100, `buffered ${maxBuffered}`);
  });

  it('a LITERAL+ literal too big even to skip is fatal', () => {
    const r = new CommandReader({ maxLiteralSize: 100, maxLiteralSkip: 1000 });
    const out = ev(r, 'a1 APPEND INBOX {1001+}\r\n');
    assert.deepEqual(out, [
      { err: 'a1', code: 'TOOBIG' },
      { err: null, fatal: true, code: 'TOOBIG' },
    ]);
    assert.ok(r.closed);
  });

  it('an absurd literal size (more digits than a number holds) is TOOBIG', () => {
    assert.deepEqual(feedPlain('a1 LOGIN {99999999999999999999999}\r\na2 NOOP\r\n'), [
      { err: 'a1', code: 'TOOBIG' },
      { cmd: ['a2', 'NOOP'] },
    ]);
  });

  it('the total command size is limited across literals', () => {
    const lit = 'x'.repeat(60);
    const out = feedPlain(`a1 APPEND b {60+}\r\n${lit} {60+}\r\n${lit}\r\na2 NOOP\r\n`, [], {
      maxLiteralSize: 100,
      maxCommandSize: 120,
    });
    assert.deepEqual(out, [{ err: 'a1', code: 'TOOBIG' }, { cmd: ['a2', 'NOOP'] }]);
  });

  it('an over-long line is rejected with its tag, dropped without buffering, and the reader recovers', () => {
    const r = new CommandReader({ maxLineLength: 1024 });
    const out: ReturnType<typeof plainEvent>[] = [];
    out.push(...ev(r, 'x1 UID FETCH '));
    let maxBuffered = 0;
    for (let i = 0; i < 200; i++) {
      out.push(...ev(r, '1,'.repeat(100)));
      maxBuffered = Math.max(maxBuffered, r.bufferedBytes);
    }
    out.push(...ev(r, '1 (FLAGS)\r\nx2 NOOP\r\n'));
    assert.deepEqual(out, [{ err: 'x1', code: 'LIMIT' }, { cmd: ['x2', 'NOOP'] }]);
    assert.ok(maxBuffered <= 1024, `buffered ${maxBuffered}`);
  });

  it('an over-long line ending in a LITERAL+ marker also skips the literal', () => {
    const line = `x1 APPEND ${'a'.repeat(2000)} {5+}\r\nhello\r\nx2 NOOP\r\n`;
    const expected = [{ err: 'x1', code: 'LIMIT' }, { cmd: ['x2', 'NOOP'] }];
    assert.deepEqual(feedPlain(line, [], { maxLineLength: 1024 }), expected);
    assert.deepEqual(feedPlain(line, [1500, 2010], { maxLineLength: 1024 }), expected);
  });

  it('line length counts every segment of a command outside its literals', () => {
    const seg = `${'a'.repeat(400)} {1+}\r\nx `;
    const out = feedPlain(`t LOGIN ${seg}${seg}${seg}b\r\nt2 NOOP\r\n`, [], { maxLineLength: 1000 });
    assert.deepEqual(out, [{ err: 't', code: 'LIMIT' }, { cmd: ['t2', 'NOOP'] }]);
  });

  it('a command line of 8 KB and more is accepted (RFC 7162 §4)', () => {
    const set = Array.from({ length: 3000 }, (_v, i) => String(i * 2 + 1)).join(',');
    assert.ok(set.length > 8192);
    assert.deepEqual(feedPlain(`u UID FETCH ${set} (FLAGS)\r\n`), [
      { cmd: ['u', 'UID', 'FETCH', set, { list: ['FLAGS'] }] },
    ]);
  });

  it('nesting deeper than the limit is rejected', () => {
    const ok = '('.repeat(32) + ')'.repeat(32);
    assert.equal(
      feedPlain(`d1 X ${ok}\r\n`)[0] !== undefined && 'cmd' in (feedPlain(`d1 X ${ok}\r\n`)[0] as object),
      true,
    );
    const deep = '('.repeat(33) + ')'.repeat(33);
    assert.deepEqual(feedPlain(`d2 X ${deep}\r\nd3 NOOP\r\n`), [
      { err: 'd2', code: 'PARSE' },
      { cmd: ['d3', 'NOOP'] },
    ]);
    const huge = '('.repeat(60000);
    assert.deepEqual(feedPlain(`d4 X ${huge}\r\nd5 NOOP\r\n`), [
      { err: 'd4', code: 'PARSE' },
      { cmd: ['d5', 'NOOP'] },
    ]);
  });

  it('data pipelined while paused is limited', () => {
    const r = new CommandReader({ maxPausedBuffer: 1000 });
    assert.deepEqual(ev(r, '1 IDLE\r\n'), [{ cmd: ['1', 'IDLE'] }]);
    assert.ok(r.paused);
    assert.deepEqual(ev(r, 'x'.repeat(999)), []);
    assert.deepEqual(ev(r, 'xx'), [{ err: null, fatal: true, code: 'LIMIT' }]);
  });
});

describe('CommandReader: pausing and raw lines', () => {
  it('IDLE then DONE as a raw line, then commands again', () => {
    const r = new CommandReader();
    assert.deepEqual(ev(r, '78 IDLE\r\n'), [{ cmd: ['78', 'IDLE'] }]);
    assert.ok(r.paused);
    r.expectRawLine();
    assert.deepEqual(r.resume(), []);
    assert.deepEqual(ev(r, 'DO'), []);
    assert.deepEqual(ev(r, 'NE\r\n79 noop\r\n'), [{ line: 'DONE' }]);
    assert.ok(r.paused);
    assert.deepEqual(
      r.resume().map((e) => plainEvent(e)),
      [{ cmd: ['79', 'NOOP'] }],
    );
  });

  it('IDLE and DONE in one chunk: DONE is not parsed as a command', () => {
    const r = new CommandReader();
    assert.deepEqual(ev(r, '1 IDLE\r\nDONE\r\n2 NOOP\r\n'), [{ cmd: ['1', 'IDLE'] }]);
    r.expectRawLine();
    assert.deepEqual(
      r.resume().map((e) => plainEvent(e)),
      [{ line: 'DONE' }],
    );
    assert.deepEqual(
      r.resume().map((e) => plainEvent(e)),
      [{ cmd: ['2', 'NOOP'] }],
    );
  });

  it('AUTHENTICATE PLAIN with the response as a raw line (base64 kept as sent)', () => {
    const r = new CommandReader();
    assert.deepEqual(ev(r, '69 authenticate PLAIN\r\n'), [{ cmd: ['69', 'AUTHENTICATE', 'PLAIN'] }]);
    r.expectRawLine();
    r.resume();
    const b64 = Buffer.from('\0alice\0secret').toString('base64');
    assert.deepEqual(ev(r, `${b64}\r\n`), [{ line: b64 }]);
    r.resume();
    assert.deepEqual(ev(r, '70 namespace\r\n'), [{ cmd: ['70', 'NAMESPACE'] }]);
  });

  it('STARTTLS: pipelined plaintext after it can be discarded (no command injection)', () => {
    const r = new CommandReader();
    assert.deepEqual(ev(r, '1 STARTTLS\r\n2 LOGIN evil evil\r\n'), [{ cmd: ['1', 'STARTTLS'] }]);
    assert.ok(r.paused);
    assert.equal(r.discardBuffered(), '2 LOGIN evil evil\r\n'.length);
    assert.deepEqual(r.resume(), []);
    assert.deepEqual(ev(r, '3 CAPABILITY\r\n'), [{ cmd: ['3', 'CAPABILITY'] }]);
  });

  it('COMPRESS: bytes after it can be taken for the inflater', () => {
    const r = new CommandReader();
    assert.deepEqual(ev(r, '1 COMPRESS DEFLATE\r\n\x78\x9c'), [{ cmd: ['1', 'COMPRESS', 'DEFLATE'] }]);
    assert.deepEqual([...r.takeBuffered()], [0x78, 0x9c]);
    r.resume();
    assert.deepEqual(ev(r, '2 NOOP\r\n'), [{ cmd: ['2', 'NOOP'] }]);
  });

  it('a raw line over the line limit is an error, not a line', () => {
    const r = new CommandReader({ maxLineLength: 100 });
    r.expectRawLine();
    const out = ev(r, 'A'.repeat(200) + '\r\n1 NOOP\r\n');
    assert.deepEqual(out[0], { err: null, code: 'LIMIT' });
  });

  it('the pause set is configurable', () => {
    const r = new CommandReader({}, { pauseAfter: [] });
    assert.deepEqual(ev(r, '1 IDLE\r\n2 NOOP\r\n').length, 2);
    assert.ok(!r.paused);
  });

  it('events from feed() with resume match one-chunk parsing for IDLE sequences', () => {
    const input = '1 IDLE\r\n2 NOOP\r\n';
    assert.deepEqual(
      feed(input).map((e) => plainEvent(e)),
      feed(input, 'bytewise').map((e) => plainEvent(e)),
    );
  });
});

describe('CommandReader: refusing a synchronizing literal', () => {
  it('the continue event names tag, command and size', () => {
    const r = new CommandReader();
    assert.deepEqual(r.push(Buffer.from('a1 APPEND INBOX {310}\r\n')), [
      { kind: 'continue', tag: 'a1', command: 'APPEND', size: 310 },
    ]);
  });

  it('rejectLiteral() drops the command; the next line is a new command', () => {
    const r = new CommandReader();
    assert.equal(r.push(Buffer.from('a1 APPEND Nope {310}\r\n')).length, 1);
    assert.equal(r.rejectLiteral(), true);
    assert.ok(r.idle);
    assert.deepEqual(ev(r, 'a2 NOOP\r\n'), [{ cmd: ['a2', 'NOOP'] }]);
    assert.equal(r.rejectLiteral(), false, 'nothing to reject between commands');
  });

  it('works for {0} too, and not once literal bytes arrived or for LITERAL+', () => {
    const r = new CommandReader();
    r.push(Buffer.from('a1 LOGIN {0}\r\n'));
    assert.equal(r.rejectLiteral(), true);
    r.push(Buffer.from('a2 LOGIN {3}\r\nab'));
    assert.equal(r.rejectLiteral(), false);
    assert.deepEqual(ev(r, 'c {1}\r\n'), ['continue']);
    assert.deepEqual(ev(r, 'd\r\n'), [
      { cmd: ['a2', 'LOGIN', { s: 'abc', lit: true }, { s: 'd', lit: true }] },
    ]);
    r.push(Buffer.from('a3 LOGIN {3+}\r\n'));
    assert.equal(r.rejectLiteral(), false);
  });
});

describe('CommandReader: pausedBy', () => {
  it('names the pausing command, which is the last event of its batch', () => {
    const r = new CommandReader();
    const evs = r.push(Buffer.from('1 NOOP\r\n2 STARTTLS\r\n3 LOGIN evil evil\r\n'));
    assert.equal(evs.length, 2);
    const last = evs[1]!;
    assert.ok(last.kind === 'command' && r.pausedBy === last.command);
    r.expectRawLine();
    r.resume();
    assert.equal(r.pausedBy, null, 'a pause after a raw line has no command');
    assert.ok(r.paused);
  });
});

describe('CommandReader: no quadratic paths', () => {
  it('a 64 KiB atom full of brackets parses in linear time', () => {
    const line = Buffer.from('a X a' + '['.repeat(60000) + ']'.repeat(4000) + '\r\n');
    const t0 = performance.now();
    const evs = new CommandReader().push(line);
    const ms = performance.now() - t0;
    assert.equal(evs.length, 1);
    assert.equal(evs[0]!.kind, 'command');
    console.log(`64 KiB bracket atom: ${ms.toFixed(1)} ms (speed is measured by npm run bench)`);
  });

  it('lowercase section atoms open sections too', () => {
    assert.deepEqual(feedPlain('a fetch 1 (body.peek[header.fields (from)]<0.5>)\r\n'), [
      {
        cmd: [
          'a',
          'FETCH',
          '1',
          { list: ['body.peek', { section: ['header.fields', { list: ['from'] }] }, { partial: [0, 5] }] },
        ],
      },
    ]);
  });
});
