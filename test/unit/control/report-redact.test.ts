// Bug-report redaction (issue 17 item 7): stable placeholders, matches inside free text, secrets
// always, and time linear in the log: a report over big hostile log files (long runs that make
// backtracking regexes quadratic, thousands of '@', known strings) never blocks the event loop
// for 200 ms (perf_hooks.monitorEventLoopDelay).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redactor } from '../../../app/control/redact.ts';
import { buildReport } from '../../../app/control/report.ts';
import { assertLoop, measureLoop } from '../../helpers/event-loop.ts';

test('placeholders are stable, case-insensitive, and found inside text', () => {
  const r = new Redactor(false, [
    { kind: 'addr', value: 'Ann@Example.org' },
    { kind: 'subject', value: 'Quarterly numbers' },
    { kind: 'folder', value: 'Clients/Acme' },
    { kind: 'folder', value: 'Sent' },
    { kind: 'secret', value: 'hunter22' },
  ]);
  const a = r.text('from ann@example.org about "Quarterly numbers" in Clients/Acme and Sent, pw hunter22');
  assert.equal(a, 'from <addr-1> about "<subject-1>" in <folder-1> and Sent, pw <secret>');
  assert.equal(r.text('ANN@EXAMPLE.ORG wrote to bob.b@x.example'), '<addr-1> wrote to <addr-2>');
  assert.equal(r.text('bob.b@x.example'), '<addr-2>', 'the same address, the same placeholder');
  assert.equal(
    r.text('connect 198.51.100.7:993 and 127.0.0.1:1143'),
    'connect <ip-1>:993 and 127.0.0.1:1143',
  );
  assert.equal(
    r.text(
      'from 2001:db8:85a3::8a2e:370:7334, fe80::1c2:3 and 2001:0db8:0000:0000:0000:ff00:0042:8329 via ::1',
    ),
    'from <ip-2>, <ip-3> and <ip-4> via ::1',
    'compressed IPv6 too (it passed through before)',
  );
  assert.equal(r.text('std::vector at 12:30:45, a::b'), 'std::vector at 12:30:45, <ip-5>');
  assert.equal(
    r.text('url http://h/#token=abc.def&x=1 Bearer xyz password: s3cr'),
    'url http://h/#token=<secret>&x=1 Bearer <secret> password: <secret>',
  );
  assert.equal(
    r.text('Sentinel hunter22x'),
    'Sentinel <secret>x',
    'secrets match anywhere, names only whole',
  );
  assert.equal(r.field('mailbox', 'Private'), '<folder-2>');
  assert.equal(r.field('mailbox', 'INBOX'), 'INBOX');
  assert.equal(r.field('subject', 'anything'), '<subject-2>');
  assert.equal(r.field('password', 'x'), '<secret>');
  // overlapping known strings: the secret wins the merged span
  const o = new Redactor(false, [
    { kind: 'subject', value: 'abcdefgh' },
    { kind: 'secret', value: 'gh ijk' },
  ]);
  assert.equal(o.text('xx abcdefgh ijk yy'), 'xx <secret> yy');
});

test('with personal data included, only secrets go', () => {
  const r = new Redactor(true, [
    { kind: 'addr', value: 'ann@example.org' },
    { kind: 'secret', value: 'hunter22' },
  ]);
  assert.equal(
    r.text('ann@example.org at 198.51.100.7 pw hunter22 token=zz'),
    'ann@example.org at 198.51.100.7 pw <secret> token=<secret>',
  );
});

test('a report over 24 MB of hostile logs keeps the event loop turning (max block < 200 ms)', async () => {
  const home = mkdtempSync(join(tmpdir(), 'lb-report-unit-'));
  try {
    mkdirSync(join(home, 'logs'));
    const base = join(home, 'logs', 'lockbridge.log');
    const line = (i: number) =>
      JSON.stringify({
        level: 40,
        time: 1_700_000_000_000 + i,
        module: 'sync',
        account: `user${i % 7}@example.org`,
        msg: `${'a'.repeat(3000)} ${'@'.repeat(500)} ${'x.'.repeat(1500)} 1.2.3.${i % 250} ${'a1:'.repeat(400)} password=${'p'.repeat(200)}`,
        err: { message: `${'b'.repeat(5000)}@${'c'.repeat(4000)}` },
      });
    const oneMiB = (n: number) => {
      const out: string[] = [];
      let size = 0;
      for (let i = 0; size < n; i++) {
        const l = line(i);
        out.push(l);
        size += l.length + 1;
      }
      return `${out.join('\n')}\n`;
    };
    const chunk = oneMiB(6 * 1024 * 1024);
    writeFileSync(base, `${'z'.repeat(6 * 1024 * 1024)}\n${chunk}`); // one 6 MB line, then lines
    for (const n of [1, 2, 3]) writeFileSync(`${base}.${n}`, chunk);
    const { value: rep, ...loop } = await measureLoop(() =>
      buildReport({ home, includePersonal: false, running: false, missing: ['test'] }),
    );
    const parsed = JSON.parse(rep.content) as { logs: { account?: string; msg: string }[] };
    assert.ok(parsed.logs.length > 100, `${parsed.logs.length} lines`);
    assert.ok(parsed.logs.every((l) => !l.account || /^<addr-[1-7]>$/.test(l.account)));
    assert.ok(!rep.content.includes('example.org'));
    assert.ok(!rep.content.includes('p'.repeat(200)));
    assertLoop(loop, 'a report over big logs');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
