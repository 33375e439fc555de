// The test command: runs every test/**/*.test.ts (or those under the paths given) with Node's
// test runner under Node 24's native TypeScript support.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve, dirname, relative } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
const roots = args.length ? args : ['test'];

function collect(p, out) {
  const st = statSync(p);
  if (st.isDirectory()) {
    for (const name of readdirSync(p).sort()) {
      if (name === 'node_modules' || name === 'fixtures') continue;
      collect(join(p, name), out);
    }
  } else if (/\.test\.(ts|mjs)$/.test(p)) out.push(p);
  return out;
}

const files = roots.flatMap((r) => collect(resolve(root, r), [])).map((f) => relative(root, f));
if (!files.length) {
  console.error('run-tests: no test files found under ' + roots.join(', '));
  process.exit(1);
}
const concurrency = process.env.LOCKBRIDGE_TEST_CONCURRENCY ?? '2';
// --test-force-exit: a test file whose tests are done ends even if a handle it leaked would keep it
// alive (a leak must not turn into a CI timeout; the file's own tests still decide pass or fail).
const res = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-force-exit',
    `--test-concurrency=${concurrency}`,
    '--test-timeout=600000',
    '--test-reporter=spec',
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_OPTIONS: '' } },
);
process.exit(res.status ?? 1);
