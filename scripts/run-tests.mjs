// The test command: runs every test/**/*.test.ts (or those under the paths given) with Node's
// test runner under Node 24's native TypeScript support, a process per file, and fails the run
// unless every file ended and reported every test it registered.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve, dirname, relative } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

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

const files = roots.flatMap((r) => collect(resolve(root, r), []));
if (!files.length) {
  console.error('run-tests: no test files found under ' + roots.join(', '));
  process.exit(1);
}
// Blocking writes: what this process reports is all written before it exits.
for (const s of [process.stdout, process.stderr]) s._handle?.setBlocking?.(true);

// A whole run that outlives this is stopped, naming the files still running.
const watchdogMin = Number(process.env.LOCKBRIDGE_TEST_WATCHDOG_MIN ?? '40');
const stop = new AbortController();
let timedOut = false;
const watchdog = setTimeout(() => {
  timedOut = true;
  console.error(`\nrun-tests: the run did not end within ${watchdogMin} min; stopping it`);
  stop.abort();
}, watchdogMin * 60_000);

// forceExit: a test file whose tests are done ends even if a handle it leaked would keep it alive
// (Node's exit-time cleanup has also been seen spinning forever); test-preload.mjs makes that
// exit lose nothing of the file's report.
const stream = run({
  files,
  cwd: root,
  concurrency: Number(process.env.LOCKBRIDGE_TEST_CONCURRENCY ?? '2'),
  timeout: 600_000,
  forceExit: true,
  signal: stop.signal,
  execArgv: ['--import', join(root, 'scripts', 'test-preload.mjs')],
  // Node's compile cache, as bin/lockbridge runs the bridge (scripts/lockbridge-node): the test
  // processes and the `lockbridge` commands they start (hundreds) reuse the type-stripped, compiled
  // sources instead of stripping and compiling the app again each (~0.5 s of CPU per command).
  env: {
    ...process.env,
    NODE_OPTIONS: '',
    NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? join(root, '.tools', 'compile-cache'),
  },
});

// Per file: did it start and end, which tests did its own process register and report.
// Events from a file's own process carry `entryFile`; the runner's per-file events do not.
const perFile = new Map(
  files.map((f) => [f, { started: false, ended: false, enq: new Set(), done: new Set() }]),
);
let failed = false;
stream.on('test:fail', (d) => {
  if (!d.todo) failed = true;
});
stream.on('test:dequeue', (d) => {
  if (d.entryFile === undefined && perFile.has(d.file)) perFile.get(d.file).started = true;
});
stream.on('test:enqueue', (d) => {
  if (d.entryFile !== undefined) perFile.get(d.entryFile)?.enq.add(d.testId);
});
stream.on('test:complete', (d) => {
  const f = perFile.get(d.entryFile ?? d.file);
  if (!f) return;
  if (d.entryFile === undefined) f.ended = true;
  else f.done.add(d.testId);
});

stream.compose(spec).pipe(process.stdout);
await new Promise((res) => stream.once('end', res).once('close', res));
clearTimeout(watchdog);

const problems = [];
for (const [file, f] of perFile) {
  const name = relative(root, file);
  if (!f.started) problems.push(`${name}: never started`);
  else if (!f.ended) problems.push(`${name}: still running`);
  else if (f.done.size < f.enq.size)
    problems.push(
      `${name}: reported ${f.done.size} of the ${f.enq.size} tests it registered (its process ended early)`,
    );
}
if (problems.length) {
  console.error('\nrun-tests: the run is incomplete:');
  for (const p of problems) console.error('  ' + p);
}
process.exit(failed || timedOut || problems.length ? 1 : 0);
