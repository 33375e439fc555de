/**
 * MIME benchmark: analyzeMessage (ENVELOPE + BODYSTRUCTURE + BODY + parts + header index + FTS
 * text) on ~20 KB messages, against a reference measured in the same run: mailsplit (a streaming
 * MIME splitter, parse only, no serializers) on the same bytes. Also the tree parse alone and
 * BODY[HEADER.FIELDS (...)] resolution.
 */
import { performance } from 'node:perf_hooks';
import { analyzeMessage } from '../app/mime/analyze.ts';
import { parseMimeTree } from '../app/mime/tree.ts';
import { parseSection, resolveSection } from '../app/mime/sections.ts';
import { MboxSplitter } from '../app/mime/mbox.ts';

export interface BenchOptions {
  smoke: boolean;
  log: (line: string) => void;
}

/** A realistic ~20 KB message: multipart/mixed { alternative { text QP, html }, base64 attachment }. */
export function makeMessage(i: number, targetBytes = 20_000): Buffer {
  const words = [
    'lorem',
    'ipsum',
    'dolor',
    'sit',
    'amet',
    'café',
    'crème',
    'naïve',
    'über',
    'mail',
    'bridge',
    'key',
  ];
  let text = '';
  let n = i;
  while (text.length < targetBytes * 0.3) {
    n = (n * 1103515245 + 12345) & 0x7fffffff;
    text += words[n % words.length] + (n % 13 === 0 ? '.\r\n' : ' ');
  }
  const qp = text.replace(/[^\x20-\x7e\r\n]/gu, (c) =>
    [...Buffer.from(c)].map((b) => '=' + b.toString(16).toUpperCase().padStart(2, '0')).join(''),
  );
  const html = '<html><body><p>' + text.replace(/\r\n/g, '</p>\r\n<p>') + '</p></body></html>';
  const attach = Buffer.alloc(Math.floor(targetBytes * 0.25), i & 0xff)
    .toString('base64')
    .replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    [
      'Return-Path: <sender@example.com>',
      'Received: from mx.example.com (mx.example.com [192.0.2.1]) by mail.example.org with ESMTPS id abc' + i,
      '\tfor <rcpt@example.org>; Mon, 23 Nov 2026 10:00:00 +0000',
      'Date: Mon, 23 Nov 2026 10:00:' + String(i % 60).padStart(2, '0') + ' +0000',
      'From: =?utf-8?q?S=C3=A9nder_Name?= <sender@example.com>',
      'To: "Recipient, One" <rcpt@example.org>, other@example.org',
      'Cc: team: a@example.org, b@example.org;',
      'Subject: Re: [list] benchmark message number ' + i,
      'Message-ID: <bench-' + i + '@example.com>',
      'In-Reply-To: <bench-' + (i - 1) + '@example.com>',
      'References: <bench-0@example.com> <bench-' + (i - 1) + '@example.com>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="==outer' + i + '=="',
      '',
      'This is a multi-part message in MIME format.',
      '--==outer' + i + '==',
      'Content-Type: multipart/alternative; boundary="==alt' + i + '=="',
      '',
      '--==alt' + i + '==',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      qp,
      '--==alt' + i + '==',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      html,
      '--==alt' + i + '==--',
      '',
      '--==outer' + i + '==',
      'Content-Type: application/octet-stream; name="data.bin"',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename="data.bin"',
      '',
      attach,
      '--==outer' + i + '==--',
      '',
    ].join('\r\n'),
  );
}

function rate(count: number, ms: number): number {
  return (count / ms) * 1000;
}

async function mailsplitRate(msgs: Buffer[]): Promise<number> {
  const pkg = 'mailsplit'; // untyped package: imported by name
  const mod = (await import(pkg)) as unknown as {
    Splitter: new () => NodeJS.ReadWriteStream & { on(e: string, f: (d: unknown) => void): void };
    default?: unknown;
  };
  const Splitter = mod.Splitter ?? (mod.default as { Splitter: typeof mod.Splitter } | undefined)?.Splitter;
  const t0 = performance.now();
  for (const m of msgs) {
    await new Promise<void>((resolve, reject) => {
      const s = new Splitter();
      s.on('data', () => undefined);
      s.on('end', () => resolve());
      s.on('error', (e) => reject(e as Error));
      s.end(m);
    });
  }
  return rate(msgs.length, performance.now() - t0);
}

export async function run(opts: BenchOptions): Promise<void> {
  const count = opts.smoke ? 200 : 20_000;
  const msgs = Array.from({ length: count }, (_, i) => makeMessage(i + 1));
  const avg = Math.round(msgs.reduce((s, m) => s + m.length, 0) / msgs.length);
  // warm up
  for (let i = 0; i < Math.min(200, count); i++) analyzeMessage(msgs[i] as Buffer);

  let t0 = performance.now();
  const c0 = process.threadCpuUsage();
  for (const m of msgs) analyzeMessage(m);
  const analyze = rate(count, performance.now() - t0);
  const cpu = process.threadCpuUsage(c0);
  const analyzeCpu = rate(count, (cpu.user + cpu.system) / 1000);

  t0 = performance.now();
  for (const m of msgs) parseMimeTree(m);
  const tree = rate(count, performance.now() - t0);

  const analyses = msgs.map((m) => analyzeMessage(m).parts);
  const sec = parseSection(
    'HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)',
  );
  if (!sec) throw new Error('bad section');
  t0 = performance.now();
  for (let i = 0; i < count; i++) resolveSection(msgs[i] as Buffer, analyses[i] as never, sec);
  const fields = rate(count, performance.now() - t0);

  const mboxData = Buffer.concat(
    msgs.flatMap((m) => [
      Buffer.from('From sender@example.com Mon Nov 23 10:00:00 2026\n'),
      m,
      Buffer.from('\n'),
    ]),
  );
  t0 = performance.now();
  const splitter = new MboxSplitter();
  let split = 0;
  for (let i = 0; i < mboxData.length; i += 65536)
    split += splitter.push(mboxData.subarray(i, i + 65536)).length;
  split += splitter.end().length;
  if (split !== count) throw new Error(`mbox split ${split} of ${count}`);
  const mbox = rate(count, performance.now() - t0);

  const ref = await mailsplitRate(msgs);
  opts.log(`messages: ${count}, average size ${avg} bytes, one core`);
  opts.log('| operation | msgs/s | ratio vs mailsplit parse |');
  opts.log('| --- | ---: | ---: |');
  opts.log(`| mailsplit Splitter (reference, parse only) | ${ref.toFixed(0)} | 1.00 |`);
  opts.log(`| analyzeMessage (everything) | ${analyze.toFixed(0)} | ${(analyze / ref).toFixed(2)} |`);
  opts.log(`| analyzeMessage per CPU-second of the main thread | ${analyzeCpu.toFixed(0)} | - |`);
  opts.log(`| parseMimeTree only | ${tree.toFixed(0)} | ${(tree / ref).toFixed(2)} |`);
  opts.log(`| BODY[HEADER.FIELDS (14 fields)] | ${fields.toFixed(0)} | ${(fields / ref).toFixed(2)} |`);
  opts.log(`| mbox split (64 KiB chunks) | ${mbox.toFixed(0)} | ${(mbox / ref).toFixed(2)} |`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ smoke: process.argv.includes('--smoke'), log: (l) => console.log(l) });
}
