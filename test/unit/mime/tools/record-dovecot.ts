// Dev tool (not a test): records what a running Dovecot answers for every fixture in
// test/fixtures/mime and prints the differences with app/mime. Start Dovecot from
// dovecot.conf.example (user u / password p, port 19143 or PORT), then:
//   WRITE=test/fixtures/mime/dovecot-expected.json scripts/node24 test/unit/mime/tools/record-dovecot.ts
// It APPENDs the fixtures once (to an empty INBOX) in file-name order.
// Appends fixtures to a running Dovecot, fetches ENVELOPE/BODYSTRUCTURE/BODY, compares with analyzeMessage.
import net from 'node:net';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { analyzeMessage } from '../../../../app/mime/analyze.ts';
import { normalizeCrlf } from '../../../../app/mime/crlf.ts';

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
async function cmd(...parts: (string | Buffer)[]): Promise<Buffer> {
  const tag = 'T' + ++tagN;
  buf = Buffer.alloc(0);
  sock.write(
    Buffer.concat([
      Buffer.from(tag + ' '),
      ...parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)),
      Buffer.from('\r\n'),
    ]),
  );
  await until(() => buf.includes('\r\n' + tag + ' ') || buf.indexOf(tag + ' ') === 0);
  return buf.subarray(0, buf.indexOf(tag + ' '));
}
await until(() => buf.includes('\r\n'));
await cmd('LOGIN u p');
await cmd('SELECT INBOX');
const st = (await cmd('UID SEARCH ALL')).toString();
if (!/SEARCH \d/.test(st)) {
  for (const f of files) {
    const raw = readFileSync(dir + '/' + f);
    await cmd('APPEND INBOX {' + raw.length + '+}\r\n', raw);
  }
  await cmd('NOOP');
}
const out: Record<string, { envelope: string; bodyStructure: string; body: string }> = {};
let bad = 0;
for (let i = 0; i < files.length; i++) {
  const f = files[i]!;
  const get = async (item: string) => {
    const r = await cmd('UID FETCH ' + (i + 1) + ' ' + item);
    const s = r.toString('utf8');
    const start = s.indexOf(item + ' ') + item.length + 1;
    return s.slice(start, s.lastIndexOf(')\r\n'));
  };
  const exp = {
    envelope: await get('ENVELOPE'),
    bodyStructure: await get('BODYSTRUCTURE'),
    body: await get('BODY'),
  };
  out[f] = exp;
  const a = analyzeMessage(normalizeCrlf(readFileSync(dir + '/' + f)));
  for (const k of ['envelope', 'bodyStructure', 'body'] as const) {
    if (a[k] !== exp[k]) {
      bad++;
      console.log(`--- ${f} ${k}\n dovecot: ${JSON.stringify(exp[k])}\n mine:    ${JSON.stringify(a[k])}`);
    }
  }
}
if (process.env.WRITE) writeFileSync(process.env.WRITE, JSON.stringify(out, null, 1) + '\n');
console.log(`${files.length} fixtures, ${bad} mismatches`);
sock.end();
