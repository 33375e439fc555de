// CI keeps every benchmark working by running it at smoke size (the full sizes are for `npm run bench`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('npm run bench -- --smoke runs every area without error', () => {
  const res = spawnSync(process.execPath, [join(root, 'bench', 'index.ts'), '--smoke'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 600_000,
  });
  assert.equal(res.status, 0, `bench failed:\n${res.stdout}\n${res.stderr}`);
  assert.match(res.stdout, /## store/);
});
