// Dev tool (not a test): records BODY[section] / BINARY[part] answers of a running Dovecot (see
// record-dovecot.ts, run that first so the fixtures are appended), e.g.
//   WRITE=test/fixtures/mime/dovecot-sections.json scripts/node24 test/unit/mime/tools/record-dovecot-sections.ts
import net from 'node:net';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { analyzeMessage } from '../../../../app/mime/analyze.ts';
import { normalizeCrlf } from '../../../../app/mime/crlf.ts';
import { parseSection, resolveSection, resolveBinary } from '../../../../app/mime/sections.ts';

const dir = new URL('../../../fixtures/mime', import.meta.url).pathname;
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.eml'))
  .sort();
const sock = net.connect(Number(process.env.PORT ?? 19143), '127.0.0.1');
let buf = Buffer.alloc(0);
let waiter: (() => void) | null = null;
sock.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  waiter?.();
});
async function until(pred: () => boolean) {
  while (!pred()) await new Promise<void>((r) => (waiter = r));
}
let tagN = 0;
async function cmd(line: string): Promise<Buffer> {
  const tag = 'T' + ++tagN;
  buf = Buffer.alloc(0);
  sock.write(tag + ' ' + line + '\r\n');
  await until(() => buf.includes('\r\n' + tag + ' ') || buf.indexOf(tag + ' ') === 0);
  return buf;
}
function extract(r: Buffer, item: string): Buffer | null | string {
  const i = r.indexOf(item + ' ');
  if (i < 0) return 'ERR:' + r.toString().slice(0, 200);
  let p = i + item.length + 1;
  if (r[p] === 0x7b || (r[p] === 0x7e && r[p + 1] === 0x7b)) {
    if (r[p] === 0x7e) p++;
    const close = r.indexOf('}', p);
    const n = Number(r.subarray(p + 1, close).toString());
    return r.subarray(close + 3, close + 3 + n);
  }
  if (r[p] === 0x22) {
    const end = r.indexOf('"', p + 1);
    return r.subarray(p + 1, end);
  }
  return null; // NIL
}
await until(() => buf.includes('\r\n'));
await cmd('LOGIN u p');
await cmd('SELECT INBOX');
const expected: Record<string, Record<string, string | null>> = {};
let bad = 0,
  total = 0;
for (let i = 0; i < files.length; i++) {
  const f = files[i]!;
  const raw = normalizeCrlf(readFileSync(dir + '/' + f));
  const a = analyzeMessage(raw);
  const specs = new Set<string>([
    '',
    'HEADER',
    'TEXT',
    'HEADER.FIELDS (From Subject X-Missing)',
    'HEADER.FIELDS.NOT (From Subject)',
    '9',
    '1.9',
  ]);
  for (const p of a.parts) {
    if (p.section === '') continue;
    specs.add(p.section);
    specs.add(p.section + '.MIME');
    specs.add(p.section + '.HEADER');
    specs.add(p.section + '.TEXT');
    specs.add(p.section + '.HEADER.FIELDS (Subject)');
  }
  expected[f] = {};
  for (const s of specs) {
    total++;
    const r = await cmd(`UID FETCH ${i + 1} (BODY.PEEK[${s}])`);
    const item = 'BODY[' + s.toUpperCase() + ']';
    const exp = extract(r, item);
    if (typeof exp === 'string') {
      console.log(f, s, exp);
      continue;
    }
    const sec = parseSection(s)!;
    const mine = resolveSection(raw, a.parts, sec);
    const expS = exp === null ? null : exp.toString('latin1');
    expected[f]![s] = expS;
    const mineS = mine === null ? '' : mine.toString('latin1');
    if ((expS ?? '') !== mineS) {
      bad++;
      console.log(`--- ${f} [${s}]\n dovecot: ${JSON.stringify(expS)}\n mine:    ${JSON.stringify(mineS)}`);
    }
  }
  for (const p of a.parts) {
    total++;
    const r = await cmd(`UID FETCH ${i + 1} (BINARY.PEEK[${p.section}])`);
    const exp = extract(r, 'BINARY[' + p.section + ']');
    const mine = resolveBinary(raw, a.parts, p.section);
    const expS = typeof exp === 'string' ? 'ERR' : exp === null ? null : exp.toString('latin1');
    const mineS = mine.ok ? mine.data.toString('latin1') : 'ERR';
    expected[f]!['BINARY ' + p.section] = expS;
    if ((expS ?? '') !== mineS) {
      bad++;
      console.log(
        `--- ${f} BINARY[${p.section}]\n dovecot: ${JSON.stringify(expS)?.slice(0, 300)}\n mine:    ${JSON.stringify(mineS).slice(0, 300)}`,
      );
    }
  }
}
if (process.env.WRITE) writeFileSync(process.env.WRITE, JSON.stringify(expected, null, 1) + '\n');
console.log(`${total} section fetches, ${bad} mismatches`);
sock.end();
