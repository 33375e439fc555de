/**
 * The test command fails a run that lost tests: a test process that ends with status 0 before
 * reporting every test it registered (what --test-force-exit did to CI under load: 890 of 896
 * tests reported, exit 0) must make scripts/run-tests.mjs exit 1 and name the file.
 */
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'lb-run-tests-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function runTests(files: Record<string, string>): { status: number | null; out: string } {
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  const res = spawnSync(
    process.execPath,
    [join(root, 'scripts/run-tests.mjs'), ...Object.keys(files).map((n) => join(dir, n))],
    {
      encoding: 'utf8',
      // without NODE_TEST_CONTEXT: the nested runner is a run of its own, not a file of this one
      env: { ...process.env, NODE_TEST_CONTEXT: undefined, LOCKBRIDGE_TEST_CONCURRENCY: '1' },
    },
  );
  return { status: res.status, out: res.stdout + res.stderr };
}

const header = "import { test, describe, it } from 'node:test';\n";

it('a complete run passes', () => {
  const r = runTests({
    'whole.test.mjs':
      header +
      "test('a', () => {});\ndescribe('d', () => { it('b', () => {}); it('c', async () => {}); });\n",
  });
  assert.equal(r.status, 0, r.out);
  assert.doesNotMatch(r.out, /incomplete/);
});

it('a test process that exits 0 half-way fails the run and is named', () => {
  const r = runTests({
    'whole.test.mjs': header + "test('a', () => {});\n",
    'cut.test.mjs':
      header +
      "test('one', () => {});\n" +
      "test('two', async () => { setTimeout(() => process.exit(0), 20); await new Promise((r) => setTimeout(r, 5000)); });\n" +
      "for (let i = 0; i < 4; i++) test('more ' + i, () => {});\n",
  });
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /cut\.test\.mjs: reported 1 of the 6 tests it registered/);
  assert.doesNotMatch(r.out, /whole\.test\.mjs:/);
});

it('a failing test still fails the run', () => {
  const r = runTests({ 'bad.test.mjs': header + "test('x', () => { throw new Error('boom'); });\n" });
  assert.equal(r.status, 1, r.out);
});
