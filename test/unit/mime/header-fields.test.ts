import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  SUMMARY_FIELDS,
  coveredBySummary,
  filterHeader,
  summaryHeader,
} from '../../../app/mime/header-fields.ts';

/** A small seeded PRNG (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OTHER = ['Received', 'DKIM-Signature', 'X-Spam', 'Return-Path', 'ARC-Seal', 'X-From', 'From-X', 'Tо'];

/** Header blocks with every shape the field scan distinguishes. */
function randomHeader(r: () => number): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const parts: Buffer[] = [];
  const lines = Math.floor(r() * 14);
  for (let i = 0; i < lines; i++) {
    const eol = r() < 0.8 ? '\r\n' : '\n';
    const k = r();
    let name = k < 0.5 ? pick(SUMMARY_FIELDS) : pick(OTHER);
    if (r() < 0.3) name = name.toUpperCase();
    const value = r() < 0.1 ? Buffer.from([0x20, 0x00, 0xff, 0xe4, 0x0d, 0x41]) : Buffer.from(` v${i}`);
    const sep = pick([':', ' :', '\t:', ':']);
    if (k > 0.93) parts.push(Buffer.from(`no colon on this line${eol}`));
    else if (k > 0.9) parts.push(Buffer.from(`:starts with a colon${eol}`));
    else parts.push(Buffer.from(name + sep), value, Buffer.from(eol));
    if (r() < 0.25) parts.push(Buffer.from(`${pick([' ', '\t'])}folded ${i}${eol}`));
  }
  if (r() < 0.2 && parts.length) parts.unshift(Buffer.from(' leading continuation\r\n'));
  if (r() < 0.7) parts.push(Buffer.from(r() < 0.5 ? '\r\n' : '\n'), Buffer.from('Subject: in the body\r\n'));
  else if (r() < 0.5 && parts.length) parts.push(Buffer.from('From: no newline at the end'));
  return Buffer.concat(parts);
}

test('filtering the summary block by any subset of its fields gives the bytes filtering the whole header gives', () => {
  const r = rng(20261123);
  let nonEmpty = 0;
  for (let n = 0; n < 5000; n++) {
    const head = randomHeader(r);
    const summary = summaryHeader(head);
    assert.ok(summary.length <= head.length);
    const subset = SUMMARY_FIELDS.filter(() => r() < 0.4).map((f) => (r() < 0.5 ? f.toUpperCase() : f));
    assert.ok(coveredBySummary(subset));
    const want = filterHeader(head, subset, false);
    const got = filterHeader(summary, subset, false);
    assert.deepEqual(got, want, `case ${n}: ${JSON.stringify(head.toString('latin1'))} ${subset.join(' ')}`);
    if (want.length > 2) nonEmpty++;
  }
  assert.ok(nonEmpty > 2000, `only ${nonEmpty} cases kept any line`);
});

test('the summary keeps summary fields with their folded lines and drops everything else', () => {
  const head = Buffer.from(
    'Received: from a\r\n\tby b\r\nSubject: hello\r\n world\r\nX-Spam: yes\r\nFrom: a@b\r\n\r\n',
  );
  assert.equal(summaryHeader(head).toString(), 'Subject: hello\r\n world\r\nFrom: a@b\r\n');
  assert.equal(coveredBySummary(['From', 'SUBJECT', 'message-id']), true);
  assert.equal(coveredBySummary(['From', 'X-Spam']), false);
  assert.equal(coveredBySummary(['Frоm']), false); // a Cyrillic "о": not a summary field
});
