// The test command: runs every test/**/*.test.ts (or those under the paths given) with Node's
// test runner under Node 24's native TypeScript support, then checks the run's ledger
// (scripts/test-ledger.mjs): every file ended, and reported every test it registered.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
// A whole run that outlives this is stopped, naming the files still running (a leaked handle
// keeps a test process alive; the run must end with a name, not at CI's time limit).
const watchdogMin = Number(process.env.LOCKBRIDGE_TEST_WATCHDOG_MIN ?? '40');
const ledgerDir = mkdtempSync(join(tmpdir(), 'lockbridge-tests-'));
const ledgerPath = join(ledgerDir, 'ledger.jsonl');

// No --test-force-exit: with it a test process calls process.exit() as soon as its last test ends,
// and whatever of its report still sat in the stdout pipe was lost — CI passed with tests missing.
const child = spawn(
  process.execPath,
  [
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-timeout=600000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'scripts', 'test-ledger.mjs')}`,
    `--test-reporter-destination=${ledgerPath}`,
    ...files,
  ],
  { cwd: root, stdio: 'inherit', detached: true, env: { ...process.env, NODE_OPTIONS: '' } },
);
let timedOut = false;
const watchdog = setTimeout(() => {
  timedOut = true;
  console.error(`\nrun-tests: the run did not end within ${watchdogMin} min; stopping it`);
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}, watchdogMin * 60_000);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    try {
      process.kill(-child.pid, sig);
    } catch {
      /* already gone */
    }
  });
}
const status = await new Promise((res) => child.on('exit', (code, signal) => res(signal ? 1 : (code ?? 1))));
clearTimeout(watchdog);

const problems = checkLedger();
rmSync(ledgerDir, { recursive: true, force: true });
if (problems.length) {
  console.error('\nrun-tests: the run is incomplete:');
  for (const p of problems) console.error('  ' + p);
}
process.exit(status !== 0 || timedOut || problems.length ? 1 : 0);

function checkLedger() {
  let text;
  try {
    text = readFileSync(ledgerPath, 'utf8');
  } catch {
    return ['no ledger was written'];
  }
  const perFile = new Map(
    files.map((f) => [resolve(root, f), { started: false, ended: false, enq: new Set(), done: new Set() }]),
  );
  for (const l of text.split('\n')) {
    if (!l) continue;
    const ev = JSON.parse(l);
    const f = perFile.get(ev.file);
    if (!f) continue;
    if (ev.e === 'start') f.started = true;
    else if (ev.e === 'end') f.ended = true;
    else if (ev.e === 'enq') f.enq.add(ev.id);
    else if (ev.e === 'done') f.done.add(ev.id);
  }
  const out = [];
  for (const [file, f] of perFile) {
    const name = relative(root, file);
    if (!f.started) out.push(`${name}: never started`);
    else if (!f.ended) out.push(`${name}: still running`);
    else if (f.done.size < f.enq.size)
      out.push(
        `${name}: reported ${f.done.size} of the ${f.enq.size} tests it registered (its process ended early)`,
      );
  }
  return out;
}
