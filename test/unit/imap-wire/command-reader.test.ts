import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CommandReader } from '../../../app/imap/wire/command-reader.ts';
import { feed, feedPlain, plainEvent } from './wire-helpers.ts';
import type { PlainEvent } from './wire-helpers.ts';

const HF =
  'From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To Received';
const hfList = HF.split(' ');

/** Command lines Thunderbird 153 sent to Dovecot in a first sync (recorded protocol log). */
const THUNDERBIRD: Array<[string, PlainEvent]> = [
  [
    '10 ID ("name" "Thunderbird" "version" "153.7.0")',
    {
      cmd: ['10', 'ID', { list: [{ s: 'name' }, { s: 'Thunderbird' }, { s: 'version' }, { s: '153.7.0' }] }],
    },
  ],
  [
    '10 STATUS "Sent" (UIDNEXT MESSAGES UNSEEN RECENT)',
    {
      cmd: ['10', 'STATUS', { s: 'Sent' }, { list: ['UIDNEXT', 'MESSAGES', 'UNSEEN', 'RECENT'] }],
    },
  ],
  ['11 select "Drafts"', { cmd: ['11', 'SELECT', { s: 'Drafts' }] }],
  ['34 authenticate PLAIN', { cmd: ['34', 'AUTHENTICATE', 'PLAIN'] }],
  ['37 UID fetch 1:* (FLAGS)', { cmd: ['37', 'UID', 'FETCH', '1:*', { list: ['FLAGS'] }] }],
  [
    `38 UID fetch 1 (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (${HF})])`,
    {
      cmd: [
        '38',
        'UID',
        'FETCH',
        '1',
        {
          list: [
            'UID',
            'RFC822.SIZE',
            'FLAGS',
            'BODY.PEEK',
            { section: ['HEADER.FIELDS', { list: hfList }] },
          ],
        },
      ],
    },
  ],
  ['39 noop', { cmd: ['39', 'NOOP'] }],
  [
    '41 UID fetch 1 (UID RFC822.SIZE BODY.PEEK[])',
    {
      cmd: ['41', 'UID', 'FETCH', '1', { list: ['UID', 'RFC822.SIZE', 'BODY.PEEK', { section: [] }] }],
    },
  ],
  [
    '6 list (subscribed) "" "*" return (special-use)',
    {
      cmd: [
        '6',
        'LIST',
        { list: ['subscribed'] },
        { s: '' },
        { s: '*' },
        'return',
        { list: ['special-use'] },
      ],
    },
  ],
  ['7 list "" "INBOX"', { cmd: ['7', 'LIST', { s: '' }, { s: 'INBOX' }] }],
  ['70 namespace', { cmd: ['70', 'NAMESPACE'] }],
  ['78 IDLE', { cmd: ['78', 'IDLE'] }],
];

describe('CommandReader: real client commands', () => {
  for (const [line, expected] of THUNDERBIRD) {
    it(`parses Thunderbird's ${line.slice(0, 50)}`, () => {
      assert.deepEqual(feedPlain(line + '\r\n'), [expected]);
      // same result fed one byte at a time, and with bare LF line ends
      assert.deepEqual(feedPlain(line + '\r\n', 'bytewise'), [expected]);
      assert.deepEqual(feedPlain(line + '\n'), [expected]);
    });
  }

  it('parses mbsync-style commands', () => {
    assert.deepEqual(feedPlain('5 UID FETCH 1:* (UID FLAGS)\r\n'), [
      { cmd: ['5', 'UID', 'FETCH', '1:*', { list: ['UID', 'FLAGS'] }] },
    ]);
    const msg = 'From: a@b\r\nSubject: x\r\n\r\nbody\r\n';
    const append = `6 APPEND "INBOX" (\\Seen) "17-Jul-1996 02:44:25 -0700" {${msg.length}+}\r\n${msg}\r\n`;
    assert.deepEqual(feedPlain(append), [
      {
        cmd: [
          '6',
          'APPEND',
          { s: 'INBOX' },
          { list: ['\\Seen'] },
          { s: '17-Jul-1996 02:44:25 -0700' },
          { s: msg, lit: true },
        ],
      },
    ]);
    assert.deepEqual(feedPlain('7 UID FETCH 1:3 (BODY.PEEK[HEADER.FIELDS (X-TUID MESSAGE-ID)])\r\n'), [
      {
        cmd: [
          '7',
          'UID',
          'FETCH',
          '1:3',
          { list: ['BODY.PEEK', { section: ['HEADER.FIELDS', { list: ['X-TUID', 'MESSAGE-ID'] }] }] },
        ],
      },
    ]);
    assert.deepEqual(feedPlain('8 UID STORE 4 +FLAGS.SILENT (\\Deleted \\Seen)\r\n'), [
      { cmd: ['8', 'UID', 'STORE', '4', '+FLAGS.SILENT', { list: ['\\Deleted', '\\Seen'] }] },
    ]);
  });

  it('LOGIN with synchronizing literals asks for a continuation for each', () => {
    const r = new CommandReader();
    assert.deepEqual(
      r.push(Buffer.from('a1 LOGIN {5}\r\n')).map((e) => plainEvent(e)),
      ['continue'],
    );
    assert.deepEqual(
      r.push(Buffer.from('alice {3}\r\n')).map((e) => plainEvent(e)),
      ['continue'],
    );
    assert.deepEqual(
      r.push(Buffer.from('pwd\r\n')).map((e) => plainEvent(e)),
      [{ cmd: ['a1', 'LOGIN', { s: 'alice', lit: true }, { s: 'pwd', lit: true }] }],
    );
    assert.ok(r.idle);
  });

  it('SEARCH CHARSET UTF-8 TEXT with a LITERAL+ UTF-8 literal', () => {
    const word = Buffer.from('üb', 'utf8');
    const input = Buffer.concat([
      Buffer.from(`s1 SEARCH CHARSET UTF-8 TEXT {${word.length}+}\r\n`),
      word,
      Buffer.from('\r\n'),
    ]);
    const evs = feed(input);
    assert.equal(evs.length, 1);
    const ev = evs[0]!;
    assert.equal(ev.kind, 'command');
    if (ev.kind !== 'command') return;
    assert.equal(ev.command.command, 'SEARCH');
    const lit = ev.command.args[3]!;
    assert.equal(lit.type, 'string');
    if (lit.type === 'string') {
      assert.equal(lit.value.toString('utf8'), 'üb');
      assert.equal(lit.literal, true);
    }
  });

  it('literal8 (BINARY APPEND) with NUL and 8-bit bytes, also split anywhere', () => {
    const body = Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a, 0x00, 0x80, 0x22, 0x5c]);
    const input = Buffer.concat([
      Buffer.from(`b1 APPEND Drafts ~{${body.length}}\r\n`),
      body,
      Buffer.from('\r\n'),
    ]);
    const expected = [
      'continue',
      { cmd: ['b1', 'APPEND', 'Drafts', { s: body.toString('latin1'), lit: true, lit8: true }] },
    ];
    assert.deepEqual(feedPlain(input), expected);
    assert.deepEqual(feedPlain(input, 'bytewise'), expected);
  });

  it('literals of size 0, sync and non-sync', () => {
    assert.deepEqual(feedPlain('z LOGIN {0}\r\n {0+}\r\n\r\n'), [
      'continue',
      { cmd: ['z', 'LOGIN', { s: '', lit: true }, { s: '', lit: true }] },
    ]);
  });

  it('quoted strings with escapes and UTF-8', () => {
    const input = Buffer.concat([Buffer.from('q SELECT "a\\"b\\\\c '), Buffer.from('Entwürfe"\r\n', 'utf8')]);
    const ev = feed(input)[0]!;
    assert.equal(ev.kind, 'command');
    if (ev.kind === 'command' && ev.command.args[0]!.type === 'string') {
      assert.equal(ev.command.args[0]!.value.toString('utf8'), 'a"b\\c Entwürfe');
      assert.equal(ev.command.args[0]!.literal, false);
    }
  });

  it('NIL, nested lists, flags, \\* and sequence sets stay atoms', () => {
    assert.deepEqual(feedPlain('n1 STORE 1,3:5,7:* FLAGS (\\Seen \\* $Forwarded (a (b nil)) NIL)\r\n'), [
      {
        cmd: [
          'n1',
          'STORE',
          '1,3:5,7:*',
          'FLAGS',
          { list: ['\\Seen', '\\*', '$Forwarded', { list: ['a', { list: ['b', null] }] }, null] },
        ],
      },
    ]);
  });

  it('sections with parts, partials and BINARY', () => {
    assert.deepEqual(
      feedPlain(
        'f1 FETCH 1 (BODY[]<0.2048> BODY.PEEK[1.2.MIME] BINARY[1]<100> BINARY.SIZE[2] BODY[TEXT]<5.10>)\r\n',
      ),
      [
        {
          cmd: [
            'f1',
            'FETCH',
            '1',
            {
              list: [
                'BODY',
                { section: [] },
                { partial: [0, 2048] },
                'BODY.PEEK',
                { section: ['1.2.MIME'] },
                'BINARY',
                { section: ['1'] },
                { partial: [100] },
                'BINARY.SIZE',
                { section: ['2'] },
                'BODY',
                { section: ['TEXT'] },
                { partial: [5, 10] },
              ],
            },
          ],
        },
      ],
    );
    // Thunderbird's summary fetch and a HEADER.FIELDS.NOT
    assert.deepEqual(
      feedPlain(
        'f2 UID fetch 3 (UID BODY.PEEK[HEADER.FIELDS (Content-Type Content-Transfer-Encoding)] BODY.PEEK[TEXT]<0.3000>)\r\n',
      ),
      [
        {
          cmd: [
            'f2',
            'UID',
            'FETCH',
            '3',
            {
              list: [
                'UID',
                'BODY.PEEK',
                { section: ['HEADER.FIELDS', { list: ['Content-Type', 'Content-Transfer-Encoding'] }] },
                'BODY.PEEK',
                { section: ['TEXT'] },
                { partial: [0, 3000] },
              ],
            },
          ],
        },
      ],
    );
  });

  it('brackets in unquoted mailbox names are part of the atom', () => {
    assert.deepEqual(feedPlain('g SELECT [Gmail]/Sent\r\n'), [{ cmd: ['g', 'SELECT', '[Gmail]/Sent'] }]);
    assert.deepEqual(feedPlain('g LIST "" %\r\n'), [{ cmd: ['g', 'LIST', { s: '' }, '%'] }]);
  });

  it('pipelined commands in one chunk, with literals in between', () => {
    const input = '1 NOOP\r\n2 LOGIN {1+}\r\na "b"\r\n3 SELECT INBOX\r\n4 UID FETCH 1:* (FLAGS)\r\n';
    const expected = [
      { cmd: ['1', 'NOOP'] },
      { cmd: ['2', 'LOGIN', { s: 'a', lit: true }, { s: 'b' }] },
      { cmd: ['3', 'SELECT', 'INBOX'] },
      { cmd: ['4', 'UID', 'FETCH', '1:*', { list: ['FLAGS'] }] },
    ];
    assert.deepEqual(feedPlain(input), expected);
    for (let cut = 1; cut < input.length; cut++)
      assert.deepEqual(feedPlain(input, [cut]), expected, `cut ${cut}`);
    assert.deepEqual(feedPlain(input, 'bytewise'), expected);
  });

  it('a literal may carry a mailbox name or appear inside a list', () => {
    assert.deepEqual(feedPlain('c1 CREATE {3+}\r\na b\r\n'), [
      { cmd: ['c1', 'CREATE', { s: 'a b', lit: true }] },
    ]);
    assert.deepEqual(feedPlain('c2 ID ({4+}\r\nname "x")\r\n'), [
      { cmd: ['c2', 'ID', { list: [{ s: 'name', lit: true }, { s: 'x' }] }] },
    ]);
  });

  it('MULTIAPPEND with several literals in one command', () => {
    assert.deepEqual(feedPlain('m APPEND box (\\Seen) {2+}\r\nab (\\Draft) {3+}\r\ncde\r\n'), [
      {
        cmd: [
          'm',
          'APPEND',
          'box',
          { list: ['\\Seen'] },
          { s: 'ab', lit: true },
          { list: ['\\Draft'] },
          { s: 'cde', lit: true },
        ],
      },
    ]);
  });

  it('empty lines between commands are ignored', () => {
    assert.deepEqual(feedPlain('\r\n\r\n1 NOOP\r\n\n'), [{ cmd: ['1', 'NOOP'] }]);
  });
});
