/**
 * A cursor over a command's argument tokens with typed accessors. Every accessor throws
 * ImapBadError on a mismatch, so handlers read arguments declaratively.
 */
import type { ImapToken } from './wire/types.ts';
import { ImapBadError } from './errors.ts';

export class Args {
  readonly #tokens: ImapToken[];
  #i = 0;

  constructor(tokens: ImapToken[]) {
    this.#tokens = tokens;
  }

  get remaining(): number {
    return this.#tokens.length - this.#i;
  }

  peek(): ImapToken | undefined {
    return this.#tokens[this.#i];
  }

  next(what = 'argument'): ImapToken {
    const t = this.#tokens[this.#i++];
    if (!t) throw new ImapBadError(`Missing ${what}`);
    return t;
  }

  /** The next token if it is a list, else undefined (without consuming). */
  optionalList(): ImapToken[] | undefined {
    const t = this.peek();
    if (t && t.type === 'list') {
      this.#i++;
      return t.items;
    }
    return undefined;
  }

  list(what = 'list'): ImapToken[] {
    const t = this.next(what);
    if (t.type !== 'list') throw new ImapBadError(`Expected ${what}`);
    return t.items;
  }

  atom(what = 'atom'): string {
    const t = this.next(what);
    if (t.type !== 'atom') throw new ImapBadError(`Expected ${what}`);
    return t.value;
  }

  /** atom or string, as a UTF-8 string. */
  astring(what = 'argument'): string {
    return tokenString(this.next(what), what);
  }

  /** astring as raw bytes (APPEND message literal). */
  bytes(what = 'argument'): Buffer {
    const t = this.next(what);
    if (t.type === 'string') return t.value;
    if (t.type === 'atom') return Buffer.from(t.value, 'utf8');
    throw new ImapBadError(`Expected ${what}`);
  }

  number(what = 'number'): number {
    return parseNumber(this.atom(what), what);
  }

  /** All remaining tokens (consumed). */
  rest(): ImapToken[] {
    const r = this.#tokens.slice(this.#i);
    this.#i = this.#tokens.length;
    return r;
  }

  end(): void {
    if (this.#i < this.#tokens.length) throw new ImapBadError('Unexpected extra arguments');
  }
}

/** An astring's value; the atom NIL is the string "NIL" where the grammar takes an astring. */
export function tokenString(t: ImapToken, what = 'argument'): string {
  if (t.type === 'atom') return t.value;
  if (t.type === 'nil') return 'NIL';
  if (t.type === 'string') return t.value.toString('utf8');
  throw new ImapBadError(`Expected ${what}`);
}

export function parseNumber(s: string, what = 'number'): number {
  if (!/^\d{1,20}$/.test(s)) throw new ImapBadError(`Invalid ${what}`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new ImapBadError(`Invalid ${what}`);
  return n;
}
