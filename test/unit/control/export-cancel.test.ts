// Issue 17 item 6: an export can be stopped (the UI's "Stop export", Ctrl-C in `lockbridge export`,
// which reaches a serving bridge through the control API: the real CLI is run against this test's
// serving bridge and interrupted), one export runs per account at a time,
// one folder can be exported alone, and what a stopped export leaves is whole: .eml files that are
// complete, an mbox holding only whole messages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Bridge } from '../../../app/index.ts';
import { splitMbox } from '../../../app/mime/mbox.ts';
import type { UserError } from '../../../app/shared/errors.ts';
import { CLI } from '../../helpers/cli.ts';
import { addStoreAccount, initBridge } from '../../helpers/runtime-bridge.ts';

const home = mkdtempSync(join(tmpdir(), 'lb-export-cancel-'));
const out = mkdtempSync(join(tmpdir(), 'lb-export-cancel-out-'));
const PASS = 'export cancel passphrase';
const ME = 'me@example.test';
const COUNT = 2000;
let bridge: Bridge;

function message(i: number): string {
  return (
    `From: Sender ${i} <s${i}@example.test>\r\nTo: ${ME}\r\nSubject: message ${i}\r\n` +
    `Message-ID: <m${i}@example.test>\r\nDate: Mon, 1 Jun 2026 10:00:00 +0000\r\n\r\n` +
    `Body of message ${i}.\r\n${'x'.repeat(200)}\r\n`
  );
}

before(async () => {
  ({ bridge } = await initBridge({
    home,
    passphrase: PASS,
    localPassword: 'export-cancel-local',
    offline: true,
  }));
  addStoreAccount(bridge, ME);
  const mbox = join(out, 'source.mbox');
  writeFileSync(
    mbox,
    Array.from(
      { length: COUNT },
      (_, i) => `From s${i}@example.test Mon Jun  1 10:00:00 2026\n${message(i)}\n`,
    ).join(''),
  );
  const res = await bridge.api.importMessages(ME, 'INBOX', [mbox]);
  assert.equal(res.imported, COUNT, JSON.stringify(res));
  const one = join(out, 'one.mbox');
  writeFileSync(one, `From a@example.test Mon Jun  1 10:00:00 2026\n${message(99999)}\n`);
  assert.equal((await bridge.api.importMessages(ME, 'Archive', [one])).imported, 1);
  // serving with its control server, as `lockbridge serve` does: the CLI finds it and talks to it
  await bridge.serve({ imapPort: 0, smtpPort: 0 });
});

after(async () => {
  await bridge.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

/** Starts an export and stops it at its first progress event; returns the error it ended with. */
async function exportAndStop(target: string): Promise<UserError> {
  let asked: Promise<boolean> | null = null;
  const off = bridge.events.subscribe((e) => {
    if (e.type === 'export-progress' && e.email === ME && !asked) asked = bridge.api.cancelExport(ME);
  });
  try {
    const err = await bridge.api.exportMessages(ME, 'INBOX', target).then(
      () => assert.fail('the export ran to its end although it was stopped'),
      (e: UserError) => e,
    );
    assert.equal(await asked, true, 'cancelExport found the running export');
    return err;
  } finally {
    off();
  }
}

test('a stopped export to a folder ends with code cancelled and leaves only whole .eml files', async () => {
  const target = join(out, 'stopped-dir');
  const err = await exportAndStop(target);
  assert.equal(err.code, 'cancelled', String(err));
  const m = /^export stopped: (\d+) of (\d+) message\(s\) written; what was written is left in (.+)$/.exec(
    err.message,
  );
  assert.ok(m, err.message);
  assert.equal(Number(m[2]), COUNT);
  assert.equal(m[3], target);
  const files = readdirSync(join(target, 'INBOX'));
  assert.equal(files.length, Number(m[1]), 'the count said is the count written');
  assert.ok(files.length < COUNT, `stopped early (${files.length} of ${COUNT})`);
  for (const f of files) assert.match(readFileSync(join(target, 'INBOX', f), 'latin1'), /\r\nx{200}\r\n$/);
  // not left "busy": the next export runs to its end
  const again = await bridge.api.exportMessages(ME, 'Archive', join(out, 'after-stop'));
  assert.equal(again.exported, 1);
});

test('a stopped mbox export keeps whole messages only', async () => {
  const target = join(out, 'stopped.mbox');
  const err = await exportAndStop(target);
  assert.equal(err.code, 'cancelled', String(err));
  const written = Number(/^export stopped: (\d+) of/.exec(err.message)?.[1]);
  const entries = splitMbox(readFileSync(target));
  assert.equal(entries.length, written);
  assert.ok(written < COUNT);
  for (const e of entries) assert.match(e.raw.toString('latin1'), /\r\nx{200}\r\n$/);
});

test('one export per account at a time; cancelExport with none running says so', async () => {
  assert.equal(await bridge.api.cancelExport(ME), false);
  const first = bridge.api.exportMessages(ME, null, join(out, 'first'));
  await assert.rejects(bridge.api.exportMessages(ME, null, join(out, 'second')), (e: UserError) => {
    assert.equal(e.code, 'busy');
    assert.match(e.message, /an export of me@example\.test is already running/);
    return true;
  });
  const res = await first;
  assert.equal(res.exported, COUNT + 1);
  assert.equal(res.folders >= 2, true);
  await assert.rejects(bridge.api.cancelExport('nobody@example.test'), /nobody@example\.test/);
});

test('one folder alone', async () => {
  const res = await bridge.api.exportMessages(ME, 'Archive', join(out, 'archive-only'));
  assert.deepEqual([res.exported, res.folders], [1, 1]);
  assert.deepEqual(readdirSync(join(out, 'archive-only')), ['Archive']);
});

test('Ctrl-C in `lockbridge export` stops the export in the serving bridge (exit 130, one line)', async () => {
  const target = join(out, 'cli-interrupted');
  const child = spawn(process.execPath, [CLI, '--home', home, 'export', '--account', ME, target], {
    env: { ...process.env, LOCKBRIDGE_PASSPHRASE: undefined } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // The CLI arms its Ctrl-C handler before it asks for the export: the first progress event of
  // the export it started proves both.
  let interrupted = false;
  const off = bridge.events.subscribe((e) => {
    if (e.type === 'export-progress' && e.email === ME && !interrupted) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  const code = await exited;
  off();
  assert.ok(interrupted, `the export never started: ${stderr}`);
  assert.equal(code, 130, stderr);
  const m =
    /^lockbridge export: export stopped: (\d+) of (\d+) message\(s\) written; what was written is left in (.+)\n$/.exec(
      stderr,
    );
  assert.ok(m, stderr);
  assert.ok(Number(m[1]) < COUNT + 1, `stopped early (${m[1]})`);
  const written = existsSync(join(target, 'INBOX')) ? readdirSync(join(target, 'INBOX')).length : 0;
  assert.ok(written <= Number(m[1]), `${written} files, ${m[1]} said`);
  // the bridge is not left busy with it
  assert.equal(await bridge.api.cancelExport(ME), false);
});
