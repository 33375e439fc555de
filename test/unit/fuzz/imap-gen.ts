/** Grammar-aware generators of IMAP client commands for the fuzz tests. */
import type { ImapToken, ParsedCommand } from '../../../app/imap/wire/types.ts';
import type { Prng } from './prng.ts';

const TAG_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_!#$&'/:;<=>?@^`|~]";
// no '[' or ']' (sections), no NIL collisions are possible with the digit/punct mix below
const ATOM_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_!#$&'/:;=?@^`|~*%,+\\<>";
const COMMANDS = [
  'CAPABILITY',
  'NOOP',
  'LOGOUT',
  'LOGIN',
  'AUTHENTICATE',
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
  'CHECK',
  'CLOSE',
  'EXPUNGE',
  'SEARCH',
  'FETCH',
  'STORE',
  'COPY',
  'MOVE',
  'UID',
  'ENABLE',
  'ID',
  'NAMESPACE',
  'UNSELECT',
  'SORT',
  'THREAD',
  'X-FOO',
];
const UID_SUB = ['FETCH', 'STORE', 'COPY', 'MOVE', 'SEARCH', 'EXPUNGE', 'SORT', 'THREAD'];
const KNOWN_ATOMS = [
  'FLAGS',
  'UID',
  'RFC822.SIZE',
  'INTERNALDATE',
  'ENVELOPE',
  'BODYSTRUCTURE',
  '\\Seen',
  '\\Deleted',
  '\\*',
  '1:*',
  '1,3:5,7:*',
  '*',
  '+FLAGS.SILENT',
  'CHARSET',
  'UTF-8',
  'TEXT',
  'INBOX',
  'MODSEQ',
  '$Forwarded',
  'HEADER.FIELDS',
  'HEADER',
  'MIME',
  '1.2.MIME',
  'CONDSTORE',
  'RETURN',
  'SPECIAL-USE',
];
const SECTION_ATOMS = ['BODY', 'BODY.PEEK', 'BINARY', 'BINARY.PEEK', 'BINARY.SIZE'];

export function genTag(r: Prng): string {
  if (r.chance(0.6)) return String(1 + r.int(100000));
  let s = '';
  const n = 1 + r.int(8);
  for (let i = 0; i < n; i++) s += TAG_CHARS[r.int(TAG_CHARS.length)];
  return s;
}

function genAtomValue(r: Prng): string {
  if (r.chance(0.4)) return r.pick(KNOWN_ATOMS);
  let s = '';
  const n = 1 + r.int(10);
  for (let i = 0; i < n; i++) s += ATOM_CHARS[r.int(ATOM_CHARS.length)];
  if (s.toUpperCase() === 'NIL') s += 'x';
  return s;
}

function genStringBytes(r: Prng, quoted: boolean): Buffer {
  const n = r.chance(0.1) ? 0 : r.int(r.chance(0.1) ? 300 : 20);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) {
    let c = r.chance(0.7) ? 0x20 + r.int(0x5f) : r.int(256);
    if (quoted && (c === 0 || c === 0x0d || c === 0x0a)) c = 0x22;
    b[i] = c;
  }
  if (quoted && n > 0 && r.chance(0.2)) b[r.int(n)] = 0x5c; // backslash
  return b;
}

export function genToken(r: Prng, depth: number, inSection: boolean): ImapToken[] {
  const k = r.int(depth > 10 ? 4 : depth > 4 ? 5 : 8);
  switch (k) {
    case 0:
    case 1:
      return [{ type: 'atom', value: genAtomValue(r) }];
    case 2:
      return [{ type: 'string', value: genStringBytes(r, true), literal: false }];
    case 3:
      if (r.chance(0.2)) return [{ type: 'nil' }];
      if (r.chance(0.8)) return [{ type: 'string', value: genStringBytes(r, false), literal: true }];
      return [{ type: 'string', value: genStringBytes(r, false), literal: true, literal8: true }];
    case 4: {
      const items: ImapToken[] = [];
      const n = r.int(4);
      for (let i = 0; i < n; i++) items.push(...genToken(r, depth + 1, inSection));
      return [{ type: 'list', items }];
    }
    default: {
      if (inSection) return [{ type: 'atom', value: genAtomValue(r) }];
      const out: ImapToken[] = [{ type: 'atom', value: r.pick(SECTION_ATOMS) }];
      const items: ImapToken[] = [];
      const n = r.int(3);
      for (let i = 0; i < n; i++) items.push(...genToken(r, depth + 1, true));
      out.push({ type: 'section', items });
      if (r.chance(0.5)) {
        const start = r.int(100000);
        out.push(
          r.chance(0.5) ? { type: 'partial', start } : { type: 'partial', start, length: 1 + r.int(100000) },
        );
      }
      return out;
    }
  }
}

export function genCommand(r: Prng): ParsedCommand {
  const command = r.pick(COMMANDS);
  const args: ImapToken[] = [];
  if (command === 'UID') args.push({ type: 'atom', value: r.pick(UID_SUB) });
  const n = r.int(6);
  for (let i = 0; i < n; i++) args.push(...genToken(r, 0, false));
  return { tag: genTag(r), command, args };
}

/** Number of literals that need a continuation when serialized synchronously. */
export function countLiterals(tokens: ImapToken[]): number {
  let n = 0;
  for (const t of tokens) {
    if (t.type === 'string' && t.literal) n++;
    else if (t.type === 'list' || t.type === 'section') n += countLiterals(t.items);
  }
  return n;
}

const SPECIAL = [
  0x28, 0x29, 0x22, 0x7b, 0x7d, 0x0d, 0x0a, 0x5b, 0x5d, 0x3c, 0x3e, 0x7e, 0x5c, 0x00, 0xff, 0x20, 0x2b, 0x2a,
];

/** Mutates a valid serialized command: flips, inserts, deletes, duplicates, truncates, tampers sizes. */
export function mutate(r: Prng, input: Buffer): Buffer {
  let b = Buffer.from(input);
  const rounds = 1 + r.int(4);
  for (let i = 0; i < rounds; i++) {
    const pos = r.int(b.length + 1);
    switch (r.int(7)) {
      case 0:
        if (b.length) b[r.int(b.length)] = r.pick(SPECIAL);
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, pos), Buffer.from([r.pick(SPECIAL)]), b.subarray(pos)]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, pos), b.subarray(Math.min(b.length, pos + 1 + r.int(8)))]);
        break;
      case 3: {
        const end = Math.min(b.length, pos + r.int(30));
        b = Buffer.concat([b.subarray(0, end), b.subarray(pos, end), b.subarray(end)]);
        break;
      }
      case 4:
        b = b.subarray(0, pos);
        break;
      case 5: {
        const s = b
          .toString('latin1')
          .replace(/\{(\d+)(\+?)\}/, (_m, _n, plus: string) =>
            r.pick([
              `{${r.int(1000)}${plus}}`,
              `{99999999999${plus}}`,
              `{${plus}}`,
              `{-1}`,
              `{1${plus}`,
              `~{3${plus}}`,
            ]),
          );
        b = Buffer.from(s, 'latin1');
        break;
      }
      default:
        b = Buffer.concat([b.subarray(0, pos), r.bytes(r.int(6)), b.subarray(pos)]);
    }
  }
  return b;
}

const JUNK_LINES = [
  'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n',
  'POST /x HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc',
  '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03',
  'EHLO example.com\r\n',
  '* OK hello\r\n',
  '+ \r\n',
  'DONE\r\n',
  '\r\r\r\n',
  '\n\n\n',
  'a{5}\r\n',
];

/** Random bytes, biased towards IMAP-significant characters, sometimes known junk. */
export function randomInput(r: Prng): Buffer {
  if (r.chance(0.1)) return Buffer.from(r.pick(JUNK_LINES), 'latin1');
  const n = r.int(200);
  const b = Buffer.allocUnsafe(n);
  const printable = r.chance(0.5);
  for (let i = 0; i < n; i++) {
    if (r.chance(0.3)) b[i] = r.pick(SPECIAL);
    else b[i] = printable ? 0x20 + r.int(0x5f) : r.int(256);
  }
  return b;
}
