/**
 * The FETCH output building blocks against simple reference forms: HEADER.FIELDS filtering (the
 * byte matcher vs the string-based filter it replaced) and the chunked response writer (vs plain
 * concatenation, with a sink that keeps every chunk it was given).
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { compileFields, filterHeader, headerFieldRanges } from '../../../app/imap/fetch/section.ts';
import { ResponseWriter } from '../../../app/imap/writer.ts';
import type { OutputSink } from '../../../app/imap/writer.ts';

/** The straightforward filter (latin1 strings, a Set of lower-cased names). */
function referenceFilter(header: Buffer, fields: string[], not: boolean): Buffer {
  const want = new Set(fields.map((f) => f.toLowerCase()));
  const out: Buffer[] = [];
  let pos = 0;
  let keep = false;
  while (pos < header.length) {
    let eol = header.indexOf(0x0a, pos);
    eol = eol < 0 ? header.length : eol + 1;
    const first = header[pos];
    if (first === 0x0d || first === 0x0a) break;
    if (first !== 0x20 && first !== 0x09) {
      const colon = header.indexOf(0x3a, pos);
      if (colon > pos && colon < eol) {
        const name = header
          .toString('latin1', pos, colon)
          .replace(/[ \t]+$/, '')
          .toLowerCase();
        keep = want.has(name) !== not;
      } else keep = false;
    }
    if (keep) out.push(header.subarray(pos, eol));
    pos = eol;
  }
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}

function rng(seed: number): () => number {
  let x = seed | 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

describe('HEADER.FIELDS filter', () => {
  const names = ['From', 'TO', 'cc', 'Subject', 'X-Priority', 'Content-Type', 'Reply-To', 'Ä-Field', 'x'];
  const pieces = [
    'From: a@b\r\n',
    'FROM : spaced\r\n',
    'to:\tx\r\n',
    'Subject: hi\r\n  folded\r\n',
    '\tcontinuation only\r\n',
    'Received: from x\r\n\tby y\r\n',
    'no colon line\r\n',
    ': empty name\r\n',
    'X-Priority: 1\n',
    'Content-Type: text/plain;\r\n charset=utf-8\r\n',
    'reply-to: <r@s>\r\n',
    'Ä-Field: latin1 name\r\n',
    '\xc4-field: other case\r\n',
    'x: short\r\n',
    'X-Very-Long-Field-Name-Beyond-Every-Wanted-One: v\r\n',
    'Cc:c\r',
    'Bcc: hidden',
  ];

  it('matches the string-based filter on random header blocks, with and without .NOT', () => {
    const r = rng(11);
    for (let k = 0; k < 3000; k++) {
      let h = '';
      const lines = r() % 12;
      for (let i = 0; i < lines; i++) h += pieces[r() % pieces.length];
      if (r() % 2) h += '\r\nbody: not a header\r\n';
      const block = Buffer.from(h, 'latin1');
      const fields = names.filter(() => r() % 2 === 0);
      for (const not of [false, true]) {
        const want = referenceFilter(block, fields, not);
        assert.deepEqual(filterHeader(block, fields, not), want, JSON.stringify({ h, fields, not }));
        const ranges: number[] = [];
        const total = headerFieldRanges(block, compileFields(fields), not, ranges);
        assert.equal(total + 2, want.length);
      }
    }
  });
});

class KeepingSink implements OutputSink {
  chunks: Buffer[] = [];
  closed = false;
  write(chunk: Buffer | string): boolean {
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return true;
  }
  readonly needsDrain = false;
  waitDrain(): Promise<void> {
    return Promise.resolve();
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

describe('response writer', () => {
  it('writes exactly the concatenation of what it was given, whatever the sizes', () => {
    const r = rng(5);
    for (let k = 0; k < 200; k++) {
      const sink = new KeepingSink();
      const w = new ResponseWriter(sink);
      const expect: Buffer[] = [];
      const ops = 1 + (r() % 60);
      for (let i = 0; i < ops; i++) {
        const kind = r() % 6;
        const len = [0, 1, 100, 5000, 17000, 70000][r() % 6]!;
        const b = Buffer.alloc(len, 97 + (i % 26));
        if (kind === 0) {
          const s = 'é'.repeat(len % 9000) + '\r\n';
          w.text(s);
          expect.push(Buffer.from(s));
        } else if (kind === 1) {
          w.literal(b);
          expect.push(Buffer.from(`{${len}}\r\n`), b);
        } else if (kind === 2 && len > 2) {
          w.copy(b, 1, len - 1);
          expect.push(b.subarray(1, len - 1));
        } else if (kind === 3) {
          w.crlf();
          expect.push(Buffer.from('\r\n'));
        } else if (kind === 4) {
          w.line('* OK x');
          expect.push(Buffer.from('* OK x\r\n'));
        } else w.flush();
      }
      w.flush();
      assert.ok(sink.bytes.equals(Buffer.concat(expect)), `case ${k}`);
      assert.equal(w.atLineStart, sink.bytes.length === 0 || sink.bytes[sink.bytes.length - 1] === 0x0a);
    }
  });

  it('never changes bytes it already handed to the sink', () => {
    const sink = new KeepingSink();
    const w = new ResponseWriter(sink);
    w.line('* 1 short reply');
    w.flush();
    const first = Buffer.from(sink.bytes);
    for (let i = 0; i < 100; i++) w.line(`* ${i} another reply that reuses the chunk`);
    w.flush();
    assert.ok(sink.chunks[0]!.equals(first));
    assert.ok(sink.bytes.toString().startsWith('* 1 short reply\r\n* 0 another'));
  });
});
