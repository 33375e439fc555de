// Robustness: mutated and truncated fixtures never throw, offsets stay inside the message and
// nested, every part resolves, and the serialized IMAP strings have balanced parentheses and
// literal lengths that match their UTF-8 payloads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeMessage } from '../../../app/mime/analyze.ts';
import { parseSection, resolveSection, resolveBinary } from '../../../app/mime/sections.ts';
import { fieldValue, parseHeaderBlock } from '../../../app/mime/header-block.ts';
import { fixture, fixtureNames } from './helpers.ts';

/** Walks an IMAP structure string: checks literals and parenthesis balance; returns false if broken. */
function wellFormed(s: string): boolean {
  const b = Buffer.from(s, 'utf8');
  let depth = 0;
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    if (c === 0x22) {
      i++;
      while (i < b.length && b[i] !== 0x22) i += b[i] === 0x5c ? 2 : 1;
      if (i >= b.length) return false;
      i++;
      continue;
    }
    if (c === 0x7b) {
      const close = b.indexOf('}\r\n', i);
      if (close < 0) return false;
      const n = Number(b.subarray(i + 1, close).toString());
      if (!Number.isInteger(n) || close + 3 + n > b.length) return false;
      i = close + 3 + n;
      continue;
    }
    if (c === 0x28) depth++;
    if (c === 0x29 && --depth < 0) return false;
    if (c === 13 || c === 10) return false; // CR/LF only inside literals
    i++;
  }
  return depth === 0;
}

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

const INTERESTING = [
  '\r\n',
  '\n',
  '--',
  ':',
  ';',
  '"',
  '(',
  ')',
  '<',
  '>',
  '=?utf-8?q?',
  '?=',
  '=',
  '\r\n\r\n',
  'boundary=',
  '\u00e9',
];

function mutate(src: Buffer, r: () => number): Buffer {
  let buf = Buffer.from(src);
  const ops = 1 + Math.floor(r() * 4);
  for (let k = 0; k < ops; k++) {
    const at = Math.floor(r() * (buf.length + 1));
    const op = Math.floor(r() * 4);
    if (op === 0)
      buf = buf.subarray(0, at); // truncate
    else if (op === 1) {
      const ins = Buffer.from(INTERESTING[Math.floor(r() * INTERESTING.length)] as string);
      buf = Buffer.concat([buf.subarray(0, at), ins, buf.subarray(at)]);
    } else if (op === 2)
      buf = Buffer.concat([
        buf.subarray(0, at),
        buf.subarray(Math.min(buf.length, at + 1 + Math.floor(r() * 40))),
      ]);
    else if (at < buf.length) buf[at] = Math.floor(r() * 256);
  }
  return buf;
}

function check(raw: Buffer, label: string): void {
  const a = analyzeMessage(raw);
  assert.equal(a.size, raw.length, label);
  assert.ok(wellFormed(a.envelope), `${label} envelope ${a.envelope}`);
  assert.ok(wellFormed(a.bodyStructure), `${label} bodystructure ${a.bodyStructure}`);
  assert.ok(wellFormed(a.body), `${label} body ${a.body}`);
  for (const p of a.parts) {
    assert.ok(
      0 <= p.headerStart &&
        p.headerStart <= p.bodyStart &&
        p.bodyStart <= p.bodyEnd &&
        p.bodyEnd <= raw.length,
      `${label} part ${p.section} ${JSON.stringify(p)}`,
    );
    if (p.section === '') continue;
    const parent = p.section.includes('.') ? p.section.slice(0, p.section.lastIndexOf('.')) : '';
    const pp = a.parts.find((x) => x.section === parent);
    assert.ok(pp, `${label} parent of ${p.section}`);
    assert.ok(
      p.headerStart >= pp.headerStart && p.bodyEnd <= pp.bodyEnd,
      `${label} ${p.section} inside ${parent}`,
    );
    for (const spec of [
      p.section,
      p.section + '.MIME',
      p.section + '.HEADER',
      p.section + '.TEXT',
      p.section + '.HEADER.FIELDS (Subject)',
    ]) {
      const sec = parseSection(spec);
      assert.ok(sec, spec);
      resolveSection(raw, a.parts, sec);
    }
    resolveBinary(raw, a.parts, p.section);
  }
  assert.ok(a.text.length <= 1024 * 1024);
}

test('mutated and truncated fixtures: no throw, consistent offsets, well-formed IMAP strings', () => {
  const names = fixtureNames();
  const r = rng(20261123);
  let n = 0;
  for (const name of names) {
    const src = fixture(name);
    check(src, name);
    for (let k = 0; k < 80; k++) {
      check(mutate(src, r), `${name}#${k}`);
      n++;
    }
  }
  assert.ok(n >= 2000);
});

test('analysis reads at most 64 KiB of one header field, cut at a fold (hostile 1 MB Subject / To)', () => {
  const words = Array.from({ length: 40_000 }, (_, i) => ` =?UTF-8?B?w7bDpMO8?= w${i}`).join('\r\n');
  const to = Array.from({ length: 40_000 }, (_, i) => ` u${i} <u${i}@example.test>,`).join('\r\n');
  const oneLine = 'ä'.repeat(300_000); // no fold: cut at a character boundary, still valid UTF-8
  const raw = Buffer.from(
    `From: a@example.test\r\nTo:${to} z@z\r\nSubject:${words}\r\nX-Long: ${oneLine}\r\n\r\nbody\r\n`,
  );
  const a = analyzeMessage(raw);
  const subject = a.headers.subject;
  assert.ok(subject.startsWith('öäü w0 öäü w1'), subject.slice(0, 40));
  assert.ok(subject.length > 10_000 && subject.length < 64 * 1024, String(subject.length));
  assert.match(subject, /öäü w\d+$/, 'ends with a whole word (cut at a fold)');
  assert.ok(!subject.includes('=?'), 'every encoded word kept is whole and decoded');
  assert.match(a.headers.to, /^u0 <u0@example\.test>, u1 <u1@example\.test>/);
  assert.ok(a.headers.to.length < 64 * 1024);
  const block = parseHeaderBlock(raw, 0, raw.length);
  const long = fieldValue(
    raw,
    block.fields.find((f) => f.lower === 'x-long')!,
  );
  assert.match(long, /^ä+$/, 'the one-line field is cut between characters (still UTF-8)');
  assert.ok(long.length <= 32 * 1024);
});
