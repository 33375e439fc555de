/**
 * Streaming mbox splitter (mboxrd/mboxo): feed chunks, get whole messages back; holds only the
 * message being assembled. A message starts at a "From " line at the start of the input or after
 * an empty line; the empty line before a separator belongs to the format and is dropped. Lines
 * matching /^>+From / lose one '>' (mboxrd unquoting). Line endings are kept as they come.
 */

export interface MboxMessage {
  /** The raw message bytes (separator line removed, unquoted). */
  raw: Buffer;
  /** The "From " separator line without the line ending (e.g. "From a@b Mon Nov 23 10:00:00 2026"). */
  separator: string;
}

const FROM = Buffer.from('From ');

export class MboxSplitter {
  #carry: Buffer = Buffer.alloc(0);
  #lines: Buffer[] = [];
  #size = 0;
  #separator: string | null = null;
  #prevEmpty = true; // the start of input counts as "after an empty line"
  #sawAny = false;
  readonly #maxMessage: number;

  constructor(maxMessageBytes = 256 * 1024 * 1024) {
    this.#maxMessage = maxMessageBytes;
  }

  /** True once the input started with a "From " line (i.e. looks like mbox). */
  get isMbox(): boolean {
    return this.#separator !== null || !this.#sawAny;
  }

  push(chunk: Buffer): MboxMessage[] {
    const out: MboxMessage[] = [];
    const buf = this.#carry.length ? Buffer.concat([this.#carry, chunk]) : chunk;
    let pos = 0;
    for (;;) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0) break;
      this.#line(buf.subarray(pos, nl + 1), out);
      pos = nl + 1;
    }
    this.#carry = buf.subarray(pos);
    if (this.#carry.length > this.#maxMessage) throw new Error('mbox line too long');
    return out;
  }

  /** Flushes the last message. */
  end(): MboxMessage[] {
    const out: MboxMessage[] = [];
    if (this.#carry.length) {
      this.#line(this.#carry, out);
      this.#carry = Buffer.alloc(0);
    }
    this.#finish(out);
    return out;
  }

  #line(line: Buffer, out: MboxMessage[]): void {
    const first = !this.#sawAny;
    this.#sawAny = true;
    if (this.#prevEmpty && line.subarray(0, 5).equals(FROM)) {
      if (first || this.#separator !== null) {
        this.#finish(out);
        this.#separator = stripEol(line).toString('latin1');
        this.#prevEmpty = false;
        return;
      }
    }
    if (this.#separator === null) throw new Error('not an mbox file (it does not start with a "From " line)');
    const empty = line.length === 1 || (line.length === 2 && line[0] === 13);
    this.#prevEmpty = empty;
    let l = line;
    if (l[0] === 62 /* > */) {
      let i = 0;
      while (l[i] === 62) i++;
      if (l.subarray(i, i + 5).equals(FROM)) l = l.subarray(1);
    }
    this.#size += l.length;
    if (this.#size > this.#maxMessage)
      throw new Error(`a message in the mbox is larger than ${this.#maxMessage} bytes`);
    this.#lines.push(l); // a view into the chunk: copied once by the concat in #finish
  }

  #finish(out: MboxMessage[]): void {
    if (this.#separator === null) return;
    const lines = this.#lines;
    // the empty line before the next separator (and a trailing one at EOF) belongs to the format
    const last = lines[lines.length - 1];
    if (last && (last.length === 1 || (last.length === 2 && last[0] === 13))) lines.pop();
    out.push({ raw: Buffer.concat(lines), separator: this.#separator });
    this.#lines = [];
    this.#size = 0;
  }
}

function stripEol(line: Buffer): Buffer {
  let end = line.length;
  if (end && line[end - 1] === 10) end--;
  if (end && line[end - 1] === 13) end--;
  return line.subarray(0, end);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** The date of a "From sender asctime" separator line (UTC assumed), or null. */
export function separatorDate(separator: string): number | null {
  const m = /([A-Z][a-z]{2}) +(\d{1,2}) +(\d{1,2}):(\d{2})(?::(\d{2}))? +(?:[A-Z]{3,4} +)?(\d{4})/.exec(
    separator,
  );
  if (!m) return null;
  const mon = MONTHS.indexOf(m[1]!.toLowerCase());
  if (mon < 0) return null;
  const t = Date.UTC(Number(m[6]), mon, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5] ?? 0));
  return Number.isNaN(t) ? null : t;
}
