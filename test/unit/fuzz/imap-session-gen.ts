/** Generators of plausible IMAP command sequences (with deliberate mistakes) for the session fuzz. */
import type { Prng } from './prng.ts';

const BOXES = [
  'INBOX',
  'inbox',
  'Sent',
  'Drafts',
  'Trash',
  'Junk',
  'Entw&APw-rfe',
  'Nope',
  'a/b',
  'a/b/c',
  'x',
  '"quoted box"',
  '""',
  '&Jjo-',
  '&bad',
  'NIL',
  '"a\\"b"',
  'Work/Projects',
];
const SETS = [
  '1',
  '1:*',
  '*',
  '2:4',
  '4:2',
  '100:*',
  '1,3,5',
  '0',
  '1:0',
  'x',
  '$',
  '1:4294967295',
  '4294967296',
];
const FETCH_ITEMS = [
  'FLAGS',
  'UID',
  'RFC822.SIZE',
  'ENVELOPE',
  'BODYSTRUCTURE',
  'BODY',
  'INTERNALDATE',
  'MODSEQ',
  'RFC822',
  'RFC822.HEADER',
  'RFC822.TEXT',
  'BODY[]',
  'BODY.PEEK[]',
  'BODY[]<0.10>',
  'BODY[]<1000000.5>',
  'BODY[1]',
  'BODY[1.MIME]',
  'BODY[2]',
  'BODY[TEXT]',
  'BODY[HEADER]',
  'BODY.PEEK[HEADER.FIELDS (From To Subject)]',
  'BODY[HEADER.FIELDS.NOT (Received)]',
  'BODY[1.2.3.4]',
  'BINARY[1]',
  'BINARY.PEEK[1]<0.3>',
  'BINARY.SIZE[1]',
  'BODY[0]',
  'BODY[HEADER.FIELDS ()]',
  'BOGUS',
  'X-GM-MSGID',
  'PREVIEW',
  'PREVIEW (LAZY)',
  'PREVIEW (FUZZY)',
  'SAVEDATE',
  'EMAILID',
  'THREADID',
];
const FETCH_MACROS = ['ALL', 'FAST', 'FULL'];
const FLAGS = [
  '\\Seen',
  '\\Deleted',
  '\\Flagged',
  '\\Answered',
  '\\Draft',
  '$Forwarded',
  '$Junk',
  'Custom',
  '\\Recent',
  '\\Bogus',
  '\\*',
];
const SEARCH_KEYS = [
  'ALL',
  'SEEN',
  'UNSEEN',
  'DELETED',
  'FLAGGED',
  'NEW',
  'OLD',
  'RECENT',
  'ANSWERED',
  'DRAFT',
  'TEXT hello',
  'BODY "Alice"',
  'FROM bob',
  'TO alice',
  'SUBJECT "hi there"',
  'HEADER Message-ID <m1@example.test>',
  'SINCE 1-Jan-2020',
  'BEFORE 1-Feb-2030',
  'ON 23-Nov-2026',
  'SENTSINCE 1-Jan-2000',
  'LARGER 10',
  'SMALLER 100000',
  'UID 1:*',
  '1:3',
  'NOT SEEN',
  'OR SEEN FLAGGED',
  '(SEEN UNDELETED)',
  'KEYWORD $Forwarded',
  'UNKEYWORD Custom',
  'MODSEQ 1',
  'SAVEDSINCE 1-Jan-2020',
  'SAVEDATESUPPORTED',
  'EMAILID M0123abc',
  'THREADID T1',
  'EMAILID "a b"',
  'SINCE 32-Jan-2020',
  'BOGUS',
  'OR SEEN',
  'LARGER x',
  'TEXT {5+}\r\nhello',
  'SUBJECT {3+}\r\n\xc3\xbc!',
];

function pickN<T>(r: Prng, arr: readonly T[], max: number): T[] {
  const n = r.int(max + 1);
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(r.pick(arr));
  return out;
}

function message(r: Prng): string {
  const subject = r.pick([
    'hello',
    'Grüße',
    '=?UTF-8?B?R3LDvMOfZQ==?=',
    '',
    'a very long subject '.repeat(5),
  ]);
  const lines = [
    `From: ${r.pick(['Bob <bob@example.test>', 'bob@example.test', 'undisclosed-recipients:;', '"A, B" <a@b>'])}`,
    `To: alice@example.test`,
    `Subject: ${subject}`,
    `Date: ${r.pick(['Mon, 23 Nov 2026 09:36:13 +0000', 'garbage', '1 Jan 2000 00:00 GMT'])}`,
    `Message-ID: <m${r.int(1000)}@example.test>`,
  ];
  if (r.chance(0.3)) {
    lines.push(
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain',
      '',
      'part one',
      '--b1',
      'Content-Type: message/rfc822',
      '',
      'Subject: inner',
      '',
      'inner body',
      '--b1--',
      '',
    );
  } else {
    lines.push('', 'Hello Alice', r.chance(0.5) ? 'second line' : '');
  }
  return lines.join(r.chance(0.9) ? '\r\n' : '\n');
}

function literal(r: Prng, s: string): string {
  const n = Buffer.byteLength(s, 'latin1');
  return `{${n}${r.chance(0.7) ? '+' : ''}}\r\n${s}`;
}

/** One command line (maybe with literals), without the tag; '' for "use a raw mutation". */
export function genCommandBody(r: Prng, authed: boolean): string {
  const uid = r.chance(0.5) ? 'UID ' : '';
  const box = (): string => r.pick(BOXES);
  switch (r.int(authed ? 24 : 8)) {
    case 0:
      return r.pick(['CAPABILITY', 'NOOP', 'CHECK', 'NAMESPACE', 'UNSELECT', 'CLOSE', 'EXPUNGE']);
    case 1:
      return r.pick([
        'LOGIN alice@example.test secret',
        'LOGIN alice@example.test wrong',
        'LOGIN "alice@example.test" {6+}\r\nsecret',
        'LOGIN',
        'LOGIN a',
      ]);
    case 2:
      return r.pick([
        `AUTHENTICATE PLAIN ${Buffer.from('\0alice@example.test\0secret').toString('base64')}`,
        'AUTHENTICATE PLAIN',
        'AUTHENTICATE PLAIN =',
        'AUTHENTICATE XOAUTH2',
        'AUTHENTICATE PLAIN !!!notbase64',
      ]);
    case 3:
      return `ENABLE ${pickN(r, ['CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT', 'BOGUS'], 3).join(' ')}`;
    case 4:
      return r.pick(['ID ("name" "Thunderbird" "version" "153.7.0")', 'ID NIL', 'ID ("a")', 'ID (', 'ID']);
    case 5:
      return r.pick(['STARTTLS', 'COMPRESS DEFLATE', 'LOGOUT', 'XYZZY', 'UID NOOP']);
    case 6:
      return 'IDLE';
    case 7:
      return `${r.pick(['SELECT', 'EXAMINE'])} ${box()}${r.chance(0.2) ? ' (CONDSTORE)' : ''}`;
    case 8:
    case 9:
      return `${r.pick(['SELECT', 'EXAMINE'])} ${box()}${r.chance(0.2) ? ' (CONDSTORE)' : ''}`;
    case 10:
      return `${r.pick(['CREATE', 'DELETE', 'SUBSCRIBE', 'UNSUBSCRIBE'])} ${box()}`;
    case 11:
      return `RENAME ${box()} ${box()}`;
    case 12:
      return r.pick([
        'LIST "" "*"',
        'LIST "" %',
        'LIST (SUBSCRIBED) "" "*" RETURN (SPECIAL-USE)',
        'LSUB "" "*"',
        'LIST "" ""',
        'LIST "" "INBOX"',
        'LIST "" (INBOX Sent)',
        'LIST "" "*" RETURN (STATUS (MESSAGES UNSEEN))',
        'LIST',
        'LIST (BOGUS) "" *',
      ]);
    case 13:
      return `STATUS ${box()} (${pickN(r, ['MESSAGES', 'UIDNEXT', 'UNSEEN', 'RECENT', 'UIDVALIDITY', 'HIGHESTMODSEQ', 'SIZE', 'MAILBOXID', 'BOGUS'], 4).join(' ')})`;
    case 14:
    case 15: {
      const flags = r.chance(0.6) ? ` (${pickN(r, FLAGS, 3).join(' ')})` : '';
      const date = r.chance(0.3)
        ? ` "${r.pick(['17-Jul-1996 02:44:25 -0700', '32-Jul-1996 02:44:25 -0700', 'bad'])}"`
        : '';
      let cmd = `APPEND ${box()}${flags}${date} ${literal(r, message(r))}`;
      if (r.chance(0.1)) cmd += ` (\\Seen) ${literal(r, message(r))}`; // MULTIAPPEND
      return cmd;
    }
    case 16:
    case 17: {
      const items = r.chance(0.2) ? r.pick(FETCH_MACROS) : `(${pickN(r, FETCH_ITEMS, 4).join(' ')})`;
      const mod = r.chance(0.1) ? ` (CHANGEDSINCE ${r.int(5)}${r.chance(0.3) ? ' VANISHED' : ''})` : '';
      return `${uid}FETCH ${r.pick(SETS)} ${items}${mod}`;
    }
    case 18:
      return `${uid}STORE ${r.pick(SETS)}${r.chance(0.1) ? ' (UNCHANGEDSINCE 1)' : ''} ${r.pick(['+FLAGS', '-FLAGS', 'FLAGS', '+FLAGS.SILENT', 'FLAGS.SILENT', 'BOGUS'])} (${pickN(r, FLAGS, 3).join(' ')})`;
    case 19:
      return `${uid}${r.pick(['COPY', 'MOVE'])} ${r.pick(SETS)} ${box()}`;
    case 20:
    case 21: {
      const ret = r.chance(0.2)
        ? `RETURN (${pickN(r, ['MIN', 'MAX', 'COUNT', 'ALL', 'SAVE'], 3).join(' ')}) `
        : '';
      const cs = r.chance(0.2) ? `CHARSET ${r.pick(['UTF-8', 'US-ASCII', 'KOI8-R'])} ` : '';
      return `${uid}SEARCH ${ret}${cs}${pickN(r, SEARCH_KEYS, 3).join(' ') || 'ALL'}`;
    }
    case 22:
      return r.pick([
        `${uid}SORT (${pickN(r, ['DATE', 'ARRIVAL', 'FROM', 'SUBJECT', 'SIZE', 'REVERSE', 'CC', 'TO', 'DISPLAYFROM', 'DISPLAYTO', 'BOGUS'], 3).join(' ')}) UTF-8 ALL`,
        `${uid}THREAD ${r.pick(['REFERENCES', 'ORDEREDSUBJECT', 'BOGUS'])} UTF-8 ${r.pick(SEARCH_KEYS)}`,
      ]);
    default:
      return r.pick([
        'UID EXPUNGE 1:*',
        `UID EXPUNGE ${r.pick(SETS)}`,
        'EXPUNGE',
        'CLOSE',
        'UNSELECT',
        'NOOP',
      ]);
  }
}

/** Token-level damage: drop/duplicate/swap a word, or insert junk. */
export function damage(r: Prng, body: string): string {
  const words = body.split(' ');
  const i = r.int(words.length);
  switch (r.int(4)) {
    case 0:
      words.splice(i, 1);
      break;
    case 1:
      words.splice(i, 0, words[i] ?? 'X');
      break;
    case 2:
      words.splice(i, 0, r.pick(['(', ')', '"', 'NIL', '{3}', '[', ']', '*', '\\', '~{1+}\r\nx']));
      break;
    default:
      words.reverse();
  }
  return words.join(' ');
}

/**
 * LIST and SEARCH with generated hostile inputs (issue 14): wildcard runs mixed with literals and
 * delimiters (catastrophic backtracking for a regex matcher), long OR chains of BODY/HEADER keys,
 * and HEADER keys on the generated folded headers of `hostileHeaderMessage`.
 */
export function genHostileCommand(r: Prng): string {
  const pick = r.int(4);
  if (pick === 0) {
    let p = '';
    const len = 1 + r.int(r.chance(0.2) ? 3000 : 60);
    for (let i = 0; i < len; i++) p += r.pick(['*', '%', '*', '%', 'a', 'q', '/', 'x', '.']);
    return `LIST ${r.chance(0.3) ? '"a/"' : '""'} "${p}"`;
  }
  if (pick === 1) {
    const n = 1 + r.int(r.chance(0.1) ? 1200 : 80);
    const keys = Array.from({ length: n }, () =>
      r.pick([`BODY w${r.int(50)}`, `HEADER X-F${r.int(4)} w${r.int(50)}`, 'TEXT zz', `FROM f${r.int(9)}`]),
    );
    let q = keys[keys.length - 1]!;
    for (let i = keys.length - 2; i >= 0; i--) q = `OR ${keys[i]} ${q}`;
    return `SEARCH ${q}`;
  }
  const field = r.pick(['X-F0', 'X-F1', 'X-F2', 'X-F3', 'Subject', 'x-f1', 'X-F']);
  const value = r.pick(['', 'w1', 'w49 w', ':', 'x'.repeat(1 + r.int(30)), '"a b"']);
  return `SEARCH ${r.chance(0.5) ? 'NOT ' : ''}HEADER ${field} ${value.startsWith('"') ? value : `"${value}"`}`;
}

/** A message whose header holds generated folded fields of up to ~512 KB (colons, tabs, long runs). */
export function hostileHeaderMessage(r: Prng): Buffer {
  const lines: string[] = ['From: f@example.test', 'Subject: hostile'];
  const fields = 1 + r.int(4);
  for (let f = 0; f < fields; f++) {
    const parts: string[] = [`X-F${r.int(4)}: w${r.int(50)}`];
    const folds = r.int(r.chance(0.3) ? 12_000 : 200);
    for (let i = 0; i < folds; i++) {
      const ws = r.pick([' ', '\t', '  ', ' \t ']);
      parts.push(ws + r.pick([`w${r.int(50)}`, ':', 'a:b', 'x'.repeat(r.int(40)), '::::', '']));
    }
    lines.push(parts.join('\r\n'));
  }
  return Buffer.from(lines.join('\r\n') + '\r\n\r\nbody w7\r\n', 'latin1');
}
