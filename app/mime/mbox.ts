/**
 * Pure, chunk-driven mbox splitter (mboxo / mboxrd; LF or CRLF line endings).
 *
 *   const s = new MboxSplitter();
 *   for (const chunk of chunks) for (const m of s.push(chunk)) handle(m.raw);
 *   for (const m of s.end()) handle(m.raw);
 *
 * - A message starts at a `From ` line at the start of the input or after an empty line, or at any
 *   `From ` line that looks like a real separator (`From sender Www Mmm dd hh:mm...`).
 * - The separator line is not part of the message; the empty line before the next separator is
 *   dropped; `>From ` / `>>From ` lines are unquoted by one `>` (mboxrd; also right for mboxo).
 * - Bytes are otherwise returned unchanged (run normalizeCrlf before storing), save one case: in a
 *   message whose lines all end in CRLF but the last, which ends in a bare LF, that LF is the
 *   writer's (mboxrdEntry: the message had no line break at its end) and is dropped. Content before
 *   the first separator (not an mbox?) is returned as a message of its own when it is not blank.
 * - Memory: the current message plus one partial line; `maxMessageBytes` (default 512 MiB) bounds it
 *   and throws MboxTooLargeError beyond it.
 *
 * mboxrdEntry(raw, sender, date) writes one message the other way (lockbridge export).
 */

export interface MboxMessage {
  /** the message bytes (without the From_ line) */
  raw: Buffer;
  /** the From_ separator line without its line ending ('' for leading content) */
  separator: string;
}

export class MboxTooLargeError extends Error {
  override name = 'MboxTooLargeError';
}

const SEPARATOR_RE = /^From \S+ +(?:[A-Z][a-z]{2} +)?[A-Z][a-z]{2} +\d{1,2} +\d{1,2}:\d{2}/;

function isFromLine(line: Buffer): boolean {
  return (
    line.length >= 5 &&
    line[0] === 70 &&
    line[1] === 114 &&
    line[2] === 111 &&
    line[3] === 109 &&
    line[4] === 32
  );
}

/** Does the line end in LF without a CR before it? */
function endsInBareLf(line: Buffer): boolean {
  const n = line.length;
  return n > 0 && line[n - 1] === 10 && (n === 1 || line[n - 2] !== 13);
}

function isEmptyLine(line: Buffer): boolean {
  return (
    line.length === 0 ||
    (line.length === 1 && line[0] === 10) ||
    (line.length === 2 && line[0] === 13 && line[1] === 10)
  );
}

/** `>From `, `>>From ` ... (mboxrd quoting) */
function isQuotedFrom(line: Buffer): boolean {
  let i = 0;
  while (i < line.length && line[i] === 62) i++;
  return (
    i > 0 &&
    line[i] === 70 &&
    line[i + 1] === 114 &&
    line[i + 2] === 111 &&
    line[i + 3] === 109 &&
    line[i + 4] === 32
  );
}

export class MboxSplitter {
  #carry: Buffer = Buffer.alloc(0);
  #lines: Buffer[] = [];
  #size = 0;
  #separator: string | null = null;
  #prevEmpty = true; // start of input counts as "after an empty line"
  readonly #max: number;

  constructor(options?: { maxMessageBytes?: number }) {
    this.#max = options?.maxMessageBytes ?? 512 * 1024 * 1024;
  }

  push(chunk: Uint8Array): MboxMessage[] {
    const out: MboxMessage[] = [];
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let pos = 0;
    if (this.#carry.length > 0) {
      // Only the line cut at the previous chunk's end is joined (not carry + the whole chunk:
      // a chunk-sized copy per chunk is most of an import's garbage).
      const nl = buf.indexOf(10);
      if (nl < 0) {
        this.#carry = Buffer.concat([this.#carry, buf]);
        if (this.#size + this.#carry.length > this.#max)
          throw new MboxTooLargeError('mbox message exceeds the size limit');
        return out;
      }
      const first = Buffer.concat([this.#carry, buf.subarray(0, nl + 1)]);
      this.#carry = Buffer.alloc(0);
      this.#line(first, out);
      pos = nl + 1;
    }
    for (;;) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0) break;
      this.#line(buf.subarray(pos, nl + 1), out);
      pos = nl + 1;
    }
    this.#carry = Buffer.from(buf.subarray(pos)); // copy: do not pin the whole chunk
    if (this.#size + this.#carry.length > this.#max)
      throw new MboxTooLargeError('mbox message exceeds the size limit');
    return out;
  }

  end(): MboxMessage[] {
    const out: MboxMessage[] = [];
    if (this.#carry.length > 0) {
      this.#line(this.#carry, out);
      this.#carry = Buffer.alloc(0);
    }
    this.#finish(out, true);
    return out;
  }

  #line(line: Buffer, out: MboxMessage[]): void {
    if (isFromLine(line) && (this.#prevEmpty || SEPARATOR_RE.test(line.toString('latin1')))) {
      this.#finish(out, false);
      this.#separator = line.toString('latin1').replace(/\r?\n$/, '');
      this.#prevEmpty = false;
      return;
    }
    this.#prevEmpty = isEmptyLine(line);
    const data = isQuotedFrom(line) ? line.subarray(1) : line;
    this.#lines.push(data);
    this.#size += data.length;
    if (this.#size > this.#max) throw new MboxTooLargeError('mbox message exceeds the size limit');
  }

  #finish(out: MboxMessage[], _eof: boolean): void {
    const lines = this.#lines;
    if (lines.length > 0 && isEmptyLine(lines[lines.length - 1] as Buffer)) lines.pop();
    const last = lines.length - 1;
    if (last > 0 && endsInBareLf(lines[last] as Buffer) && !lines.some((l, i) => i < last && endsInBareLf(l)))
      lines[last] = (lines[last] as Buffer).subarray(0, -1);
    const sep = this.#separator;
    if (sep !== null || lines.some((l) => !isEmptyLine(l) && l.toString('latin1').trim() !== '')) {
      if (sep !== null || lines.length > 0) out.push({ raw: Buffer.concat(lines), separator: sep ?? '' });
    }
    this.#lines = [];
    this.#size = 0;
  }
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** asctime(3) of a UTC time, as mbox separator lines carry it: `Sat Dec  5 12:00:00 2026`. */
function asctime(ms: number): string {
  const d = new Date(ms);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return (
    `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ` +
    `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`
  );
}

/**
 * One message as an mboxrd entry, in pieces to write in order: the `From SENDER DATE` line, the
 * message with every `From ` / `>From ` / `>>From ` ... line quoted by one more `>`, a blank line.
 * The message's own line ends are kept (CRLF as stored), the added lines end in CRLF too; a message
 * without a line break at its end gets a bare LF, which MboxSplitter takes off again.
 */
export function mboxrdEntry(raw: Buffer, sender: string, dateMs: number): Buffer[] {
  const from = /^[!-~]+$/.test(sender) ? sender : 'MAILER-DAEMON';
  const out: Buffer[] = [Buffer.from(`From ${from} ${asctime(dateMs)}\r\n`, 'latin1')];
  let start = 0; // start of the piece not yet pushed
  let pos = 0; // start of the current line
  while (pos < raw.length) {
    const nl = raw.indexOf(10, pos);
    const end = nl < 0 ? raw.length : nl + 1;
    if (isFromLine(raw.subarray(pos, pos + 5)) || isQuotedFrom(raw.subarray(pos, end))) {
      out.push(raw.subarray(start, pos), GT);
      start = pos;
    }
    pos = end;
  }
  out.push(raw.subarray(start));
  const ended = raw.length > 0 && raw[raw.length - 1] === 10;
  out.push(ended ? CRLF : LF_CRLF);
  return out;
}

const GT = Buffer.from('>');
const CRLF = Buffer.from('\r\n');
const LF_CRLF = Buffer.from('\n\r\n');

/** Convenience: split a whole mbox held in memory. */
export function splitMbox(data: Uint8Array): MboxMessage[] {
  const s = new MboxSplitter();
  return [...s.push(data), ...s.end()];
}
