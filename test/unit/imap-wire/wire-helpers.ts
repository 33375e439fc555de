/** Test helpers for the IMAP wire reader: feeding with split points, and a token serializer. */
import { CommandReader } from '../../../app/imap/wire/command-reader.ts';
import type { WireLimits } from '../../../app/imap/wire/limits.ts';
import type { ImapToken, ParsedCommand, ReaderEvent } from '../../../app/imap/wire/types.ts';

/** Plain JSON-comparable form of a token: Buffers become latin1 strings. */
export type PlainToken =
  | string
  | null
  | { s: string; lit?: boolean; lit8?: boolean }
  | { list: PlainToken[] }
  | { section: PlainToken[] }
  | { partial: [number, number?] };

export function plain(t: ImapToken): PlainToken {
  switch (t.type) {
    case 'atom':
      return t.value;
    case 'nil':
      return null;
    case 'string': {
      const o: { s: string; lit?: boolean; lit8?: boolean } = { s: t.value.toString('latin1') };
      if (t.literal) o.lit = true;
      if (t.literal8) o.lit8 = true;
      return o;
    }
    case 'list':
      return { list: t.items.map(plain) };
    case 'section':
      return { section: t.items.map(plain) };
    case 'partial':
      return { partial: t.length === undefined ? [t.start] : [t.start, t.length] };
  }
}

export type PlainEvent =
  | { cmd: [string, string, ...PlainToken[]] }
  | 'continue'
  | { err: string | null; fatal?: boolean; code?: string; msg?: string }
  | { line: string };

export function plainEvent(e: ReaderEvent, withMessage = false): PlainEvent {
  switch (e.kind) {
    case 'command':
      return { cmd: [e.command.tag, e.command.command, ...e.command.args.map(plain)] };
    case 'continue':
      return 'continue';
    case 'line':
      return { line: e.line };
    case 'error': {
      const o: { err: string | null; fatal?: boolean; code?: string; msg?: string } = { err: e.tag };
      if (e.fatal) o.fatal = true;
      if (e.code) o.code = e.code;
      if (withMessage) o.msg = e.message;
      return o;
    }
  }
}

/** Feeds `input` cut at `cuts` (offsets), resuming after pauses, and returns all events. */
export function feed(
  input: Buffer | string,
  cuts: number[] | 'bytewise' = [],
  limits?: Partial<WireLimits>,
  reader: CommandReader = new CommandReader(limits),
): ReaderEvent[] {
  const buf = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const points =
    cuts === 'bytewise'
      ? Array.from({ length: buf.length }, (_v, i) => i + 1)
      : [...cuts, buf.length].filter((c) => c > 0 && c <= buf.length).sort((a, b) => a - b);
  const out: ReaderEvent[] = [];
  let prev = 0;
  const drain = (evs: ReaderEvent[]): void => {
    out.push(...evs);
    while (reader.paused) out.push(...reader.resume());
  };
  for (const p of points) {
    if (p <= prev) continue;
    drain(reader.push(buf.subarray(prev, p)));
    prev = p;
  }
  return out;
}

export function feedPlain(
  input: Buffer | string,
  cuts: number[] | 'bytewise' = [],
  limits?: Partial<WireLimits>,
): PlainEvent[] {
  return feed(input, cuts, limits).map((e) => plainEvent(e));
}

/** Serializes a command as a client would send it (LITERAL+ for literals when nonSync). */
export function serializeCommand(cmd: ParsedCommand, opts: { nonSync?: boolean } = {}): Buffer {
  const parts: Buffer[] = [Buffer.from(`${cmd.tag} ${cmd.command}`, 'latin1')];
  const args = cmd.args;
  let prev: ImapToken | undefined;
  for (const a of args) {
    parts.push(tokenBytes(a, prev, opts));
    prev = a;
  }
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

function tokenBytes(t: ImapToken, prev: ImapToken | undefined, opts: { nonSync?: boolean }): Buffer {
  // sections and partials attach without a space; everything else is separated by one
  const sep = t.type === 'section' || t.type === 'partial' || prev === undefined ? '' : ' ';
  const lead = prev === undefined && t.type !== 'section' && t.type !== 'partial' ? ' ' : sep;
  return Buffer.concat([Buffer.from(lead), bare(t, opts)]);
}

function bare(t: ImapToken, opts: { nonSync?: boolean }): Buffer {
  switch (t.type) {
    case 'atom':
      return Buffer.from(t.value, 'latin1');
    case 'nil':
      return Buffer.from('NIL');
    case 'string':
      if (t.literal) {
        const head = `${t.literal8 ? '~' : ''}{${t.value.length}${opts.nonSync ? '+' : ''}}\r\n`;
        return Buffer.concat([Buffer.from(head), t.value]);
      }
      return Buffer.concat([
        Buffer.from('"'),
        Buffer.from(
          t.value.toString('latin1').replace(/[\\"]/g, (c) => '\\' + c),
          'latin1',
        ),
        Buffer.from('"'),
      ]);
    case 'list':
    case 'section': {
      const inner: Buffer[] = [];
      let prev: ImapToken | undefined;
      for (const it of t.items) {
        const sep = prev === undefined || it.type === 'section' || it.type === 'partial' ? '' : ' ';
        inner.push(Buffer.from(sep), bare(it, opts));
        prev = it;
      }
      const [o, c] = t.type === 'list' ? ['(', ')'] : ['[', ']'];
      return Buffer.concat([Buffer.from(o), ...inner, Buffer.from(c)]);
    }
    case 'partial':
      return Buffer.from(t.length === undefined ? `<${t.start}>` : `<${t.start}.${t.length}>`);
  }
}
