/**
 * Incremental tokenizer for ONE client command, fed line segment by line segment (a command is
 * split into segments by its literals). Pure and synchronous; the streaming, limits and literal
 * bytes are handled by CommandReader.
 */
import {
  ATOM_CHAR,
  BACKSLASH,
  COMMAND_CHAR,
  DOT,
  DQUOTE,
  GT,
  LBRACE,
  LBRACKET,
  LPAREN,
  LT,
  RBRACKET,
  RPAREN,
  SP,
  TAG_CHAR,
  TILDE,
  isDigit,
} from './chars.ts';
import { MAX_UINT32 } from './limits.ts';
import { trailingLiteral } from './literal-marker.ts';
import type { LiteralMarker } from './literal-marker.ts';
import type { ImapToken, ParsedCommand } from './types.ts';

/** Atoms after which '[' opens a section (FETCH data items, RFC 3501 / RFC 3516). */
const SECTION_ATOMS = new Set(['BODY', 'BODY.PEEK', 'BINARY', 'BINARY.PEEK', 'BINARY.SIZE']);
/** Longest SECTION_ATOMS entry: longer atoms are never looked up (keeps `a[[[[...` linear). */
const SECTION_ATOM_MAX = 11;

const HTTP_METHODS = new Set([
  'GET',
  'POST',
  'PUT',
  'HEAD',
  'OPTIONS',
  'DELETE',
  'CONNECT',
  'PATCH',
  'TRACE',
]);

export type SegmentResult =
  | { kind: 'done'; command: ParsedCommand }
  | { kind: 'literal'; marker: LiteralMarker }
  | { kind: 'error'; message: string; fatal?: boolean };

interface Frame {
  kind: 'root' | 'list' | 'section';
  items: ImapToken[];
}

class ParseError extends Error {
  readonly fatal: boolean;
  constructor(message: string, fatal = false) {
    super(message);
    this.fatal = fatal;
  }
}

/** Extracts a syntactically valid tag from the start of a (possibly partial) line, or null. */
export function peekTag(line: Uint8Array, end: number = line.length): string | null {
  let i = 0;
  while (i < end && TAG_CHAR[line[i] as number]) i++;
  if (i === 0 || (i < end && line[i] !== SP)) return null;
  if (i === end) return null; // cannot know yet whether the tag is complete
  return Buffer.from(line.buffer, line.byteOffset, i).toString('latin1');
}

export class CommandParser {
  tag: string | null = null;
  command: string | null = null;
  readonly #maxDepth: number;
  readonly #args: ImapToken[] = [];
  readonly #stack: Frame[] = [];
  #sectionDepth = 0;
  #needSep = false;

  constructor(maxDepth: number) {
    this.#maxDepth = maxDepth;
    this.#stack.push({ kind: 'root', items: this.#args });
  }

  /** Parses one segment (a line without its CRLF/LF). The first call parses tag and command name. */
  feedLine(line: Buffer): SegmentResult {
    try {
      let p = 0;
      if (this.command === null) p = this.#parseHead(line);
      return this.#parseArgs(line, p);
    } catch (err) {
      if (err instanceof ParseError) return { kind: 'error', message: err.message, fatal: err.fatal };
      throw err;
    }
  }

  /** Adds the bytes of the literal announced by the previous segment. */
  addLiteral(value: Buffer, literal8: boolean): void {
    const tok: ImapToken = literal8
      ? { type: 'string', value, literal: true, literal8: true }
      : { type: 'string', value, literal: true };
    this.#top().items.push(tok);
    this.#needSep = true;
  }

  #top(): Frame {
    return this.#stack[this.#stack.length - 1] as Frame;
  }

  #parseHead(line: Buffer): number {
    const end = line.length;
    let i = 0;
    while (i < end && TAG_CHAR[line[i] as number]) i++;
    if (i === 0 || (i < end && line[i] !== SP)) {
      if (line[0] === 0x16 && line[1] === 0x03)
        throw new ParseError('TLS handshake on a plaintext connection', true);
      throw new ParseError('Invalid tag');
    }
    const tag = line.toString('latin1', 0, i);
    if (i === end) {
      this.tag = tag;
      throw new ParseError('Missing command');
    }
    i++;
    const cmdStart = i;
    while (i < end && COMMAND_CHAR[line[i] as number]) i++;
    const name = line.toString('latin1', cmdStart, i).toUpperCase();
    if (HTTP_METHODS.has(tag) && /\sHTTP\/\d/.test(line.toString('latin1', cmdStart))) {
      throw new ParseError('This is an IMAP server, not an HTTP server', true);
    }
    this.tag = tag;
    if (name.length === 0 || (i < end && line[i] !== SP)) throw new ParseError('Invalid command name');
    this.command = name;
    if (name === 'UID') {
      if (i === end) throw new ParseError('Missing command after UID');
      i++;
      const subStart = i;
      while (i < end && COMMAND_CHAR[line[i] as number]) i++;
      if (i === subStart || (i < end && line[i] !== SP)) throw new ParseError('Invalid command after UID');
      this.#args.push({ type: 'atom', value: line.toString('latin1', subStart, i).toUpperCase() });
    }
    return i;
  }

  #parseArgs(line: Buffer, start: number): SegmentResult {
    const end = line.length;
    let p = start;
    while (p < end) {
      const c = line[p] as number;
      if (c === SP) {
        p++;
        this.#needSep = false;
        continue;
      }
      if (c === RPAREN) {
        if (this.#top().kind !== 'list') throw new ParseError("Unexpected ')'");
        this.#stack.pop();
        p++;
        this.#needSep = true;
        continue;
      }
      if (c === RBRACKET && this.#sectionDepth > 0) {
        if (this.#top().kind !== 'section') throw new ParseError("Unexpected ']'");
        this.#stack.pop();
        this.#sectionDepth--;
        p++;
        this.#needSep = true;
        if (line[p] === LT) p = this.#parsePartial(line, p);
        continue;
      }
      if (this.#needSep) throw new ParseError('Missing space between arguments');
      if (c === DQUOTE) {
        p = this.#parseQuoted(line, p);
      } else if (c === LPAREN) {
        this.#open('list');
        p++;
      } else if (c === LBRACE || (c === TILDE && line[p + 1] === LBRACE)) {
        const marker = trailingLiteral(line);
        if (!marker || marker.start !== p)
          throw new ParseError('Invalid literal, or literal not at the end of the line');
        return { kind: 'literal', marker };
      } else if (ATOM_CHAR[c] || c === LBRACKET || c === RBRACKET) {
        p = this.#parseAtom(line, p);
      } else if (c === 0x0d) {
        throw new ParseError('CR without LF');
      } else if (c >= 0x80) {
        throw new ParseError('8-bit character outside a quoted string or literal');
      } else {
        throw new ParseError(`Unexpected character 0x${c.toString(16).padStart(2, '0')}`);
      }
    }
    const top = this.#top();
    if (top.kind === 'list') throw new ParseError("Missing ')'");
    if (top.kind === 'section') throw new ParseError("Missing ']'");
    return {
      kind: 'done',
      command: { tag: this.tag as string, command: this.command as string, args: this.#args },
    };
  }

  #open(kind: 'list' | 'section'): void {
    if (this.#stack.length > this.#maxDepth) throw new ParseError('Too deeply nested');
    const items: ImapToken[] = [];
    this.#top().items.push(kind === 'list' ? { type: 'list', items } : { type: 'section', items });
    this.#stack.push({ kind, items });
    if (kind === 'section') this.#sectionDepth++;
    this.#needSep = false;
  }

  #parseAtom(line: Buffer, start: number): number {
    const end = line.length;
    let q = start;
    while (q < end) {
      const b = line[q] as number;
      if (ATOM_CHAR[b]) {
        q++;
      } else if (b === LBRACKET) {
        const n = q - start;
        if (
          n >= 4 &&
          n <= SECTION_ATOM_MAX &&
          SECTION_ATOMS.has(line.toString('latin1', start, q).toUpperCase())
        ) {
          this.#top().items.push({ type: 'atom', value: line.toString('latin1', start, q) });
          this.#open('section');
          return q + 1;
        }
        q++;
      } else if (b === RBRACKET && this.#sectionDepth === 0) {
        q++;
      } else break;
    }
    const value = line.toString('latin1', start, q);
    this.#top().items.push(
      value.length === 3 && value.toUpperCase() === 'NIL' ? { type: 'nil' } : { type: 'atom', value },
    );
    this.#needSep = true;
    return q;
  }

  #parseQuoted(line: Buffer, start: number): number {
    const end = line.length;
    let q = start + 1;
    let escapes = 0;
    while (q < end) {
      const b = line[q] as number;
      if (b === DQUOTE) break;
      if (b === BACKSLASH) {
        const n = line[q + 1];
        if (n !== DQUOTE && n !== BACKSLASH) throw new ParseError('Invalid escape in quoted string');
        escapes++;
        q += 2;
        continue;
      }
      if (b === 0 || b === 0x0d || b === 0x0a) throw new ParseError('Invalid character in quoted string');
      q++;
    }
    if (q >= end) throw new ParseError('Missing closing quote');
    let value: Buffer;
    if (escapes === 0) {
      value = Buffer.from(line.subarray(start + 1, q));
    } else {
      value = Buffer.allocUnsafe(q - start - 1 - escapes);
      let o = 0;
      for (let k = start + 1; k < q; k++) {
        let b = line[k] as number;
        if (b === BACKSLASH) b = line[++k] as number;
        value[o++] = b;
      }
    }
    this.#top().items.push({ type: 'string', value, literal: false });
    this.#needSep = true;
    return q + 1;
  }

  /** `<start>` or `<start.length>` right after a section's ']'. */
  #parsePartial(line: Buffer, p: number): number {
    let q = p + 1;
    const a = readNumber(line, q);
    if (!a) throw new ParseError('Invalid partial range');
    q = a.end;
    let length: number | undefined;
    if (line[q] === DOT) {
      const b = readNumber(line, q + 1);
      if (!b) throw new ParseError('Invalid partial range');
      length = b.value;
      q = b.end;
    }
    if (line[q] !== GT) throw new ParseError('Invalid partial range');
    this.#top().items.push(
      length === undefined
        ? { type: 'partial', start: a.value }
        : { type: 'partial', start: a.value, length },
    );
    this.#needSep = true;
    return q + 1;
  }
}

function readNumber(line: Buffer, start: number): { value: number; end: number } | null {
  let q = start;
  let v = 0;
  while (isDigit(line[q])) {
    v = v * 10 + ((line[q] as number) - 0x30);
    if (v > MAX_UINT32) return null;
    q++;
  }
  if (q === start) return null;
  return { value: v, end: q };
}
