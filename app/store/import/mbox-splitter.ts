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
const NL_FROM = Buffer.from('\nFrom ');
const QUOTED = Buffer.from('>From ');

/** Is the line that ends with the '\n' at `nl` empty ("\n" or "\r\n")? `lineStart` = start of that line. */
function emptyLineEndingAt(buf: Buffer, nl: number, lineStart: number): boolean {
  return nl === lineStart || (nl === lineStart + 1 && buf[lineStart] === 13);
}

/** Start of the line whose '\n' is at `nl` (Buffer.lastIndexOf treats negative offsets as from the end). */
function lineStartBefore(buf: Buffer, nl: number): number {
  return nl <= 0 ? 0 : buf.lastIndexOf(10, nl - 1) + 1;
}

/** Removes one '>' from lines matching /^>+From / (mboxrd). */
function unquote(raw: Buffer): Buffer {
  if (!raw.includes(QUOTED)) return raw;
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < raw.length) {
    let nl = raw.indexOf(10, pos);
    if (nl < 0) nl = raw.length - 1;
    const line = raw.subarray(pos, nl + 1);
    let i = 0;
    while (line[i] === 62) i++;
    out.push(i > 0 && line.subarray(i, i + 5).equals(FROM) ? line.subarray(1) : line);
    pos = nl + 1;
  }
  return Buffer.concat(out);
}

/** Drops the one empty line that precedes a separator (or ends the file). */
function dropFinalEmptyLine(raw: Buffer): Buffer {
  const n = raw.length;
  if (n >= 2 && raw[n - 1] === 10 && raw[n - 2] === 10) return raw.subarray(0, n - 1);
  if (n >= 3 && raw[n - 1] === 10 && raw[n - 2] === 13 && raw[n - 3] === 10) return raw.subarray(0, n - 2);
  if ((n === 1 && raw[0] === 10) || (n === 2 && raw[0] === 13 && raw[1] === 10)) return raw.subarray(0, 0);
  return raw;
}

export class MboxSplitter {
  #carry: Buffer = Buffer.alloc(0);
  /** Pieces (views into input chunks) of the message being assembled. */
  #pieces: Buffer[] = [];
  #size = 0;
  #separator: string | null = null;
  /** Whether the last complete line seen was empty (the start of input counts as such). */
  #prevEmpty = true;
  #started = false;
  readonly #maxMessage: number;

  constructor(maxMessageBytes = 256 * 1024 * 1024) {
    this.#maxMessage = maxMessageBytes;
  }

  push(chunk: Buffer): MboxMessage[] {
    const buf = this.#carry.length ? Buffer.concat([this.#carry, chunk]) : chunk;
    const lastNl = buf.lastIndexOf(10);
    if (lastNl < 0) {
      this.#carry = buf;
      if (buf.length > this.#maxMessage) throw new Error('mbox line too long');
      return [];
    }
    this.#carry = buf.subarray(lastNl + 1);
    const out: MboxMessage[] = [];
    this.#scan(buf.subarray(0, lastNl + 1), out);
    return out;
  }

  /** Flushes the last message. */
  end(): MboxMessage[] {
    const out: MboxMessage[] = [];
    if (this.#carry.length) {
      this.#scan(Buffer.concat([this.#carry, Buffer.from('\n')]), out, true);
      this.#carry = Buffer.alloc(0);
    }
    this.#finish(out);
    return out;
  }

  /** Scans complete lines (region ends with '\n'). */
  #scan(region: Buffer, out: MboxMessage[], addedNl = false): void {
    if (!this.#started && !region.subarray(0, 5).equals(FROM))
      throw new Error('not an mbox file (it does not start with a "From " line)');
    let segStart = 0;
    let search = 0;
    for (;;) {
      // next line starting with "From "
      let i: number;
      if (search === 0 && region.subarray(0, 5).equals(FROM)) i = 0;
      else {
        const j = region.indexOf(NL_FROM, search === 0 ? 0 : search - 1);
        if (j < 0) break;
        i = j + 1;
      }
      const lineEnd = region.indexOf(10, i);
      search = lineEnd + 1;
      // region starts at a line start, so the previous line lies entirely inside it
      const prevEmpty =
        i === 0 ? this.#prevEmpty : emptyLineEndingAt(region, i - 1, lineStartBefore(region, i - 1));
      if (!prevEmpty) continue;
      this.#append(region.subarray(segStart, i));
      this.#finish(out);
      this.#separator = stripEol(region.subarray(i, lineEnd + 1)).toString('latin1');
      this.#started = true;
      segStart = lineEnd + 1;
    }
    let tail = region.subarray(segStart);
    if (addedNl) tail = tail.subarray(0, tail.length - 1);
    this.#append(tail);
    // remember whether the region's last line was empty
    const n = region.length;
    const lastStart = lineStartBefore(region, n - 1);
    this.#prevEmpty = emptyLineEndingAt(region, n - 1, lastStart);
  }

  #append(piece: Buffer): void {
    if (piece.length === 0) return;
    this.#size += piece.length;
    if (this.#size > this.#maxMessage)
      throw new Error(`a message in the mbox is larger than ${this.#maxMessage} bytes`);
    this.#pieces.push(piece);
  }

  #finish(out: MboxMessage[]): void {
    if (this.#separator !== null) {
      const raw = unquote(dropFinalEmptyLine(Buffer.concat(this.#pieces)));
      out.push({ raw, separator: this.#separator });
    }
    this.#pieces = [];
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
