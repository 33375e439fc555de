// Layering check (runs in CI): every import in app/, main/, renderer/ is checked against the
// architecture's rules. Exits 1 and names each violation.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve, sep } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');

/** The layers inside app/, bottom to top. */
const LAYERS = [
  'shared',
  'config',
  'mime',
  'crypto',
  'store',
  'oauth',
  'keys',
  'imap',
  'smtp',
  'outgoing',
  'sync',
  'control',
];
/** Layers inside app/: a module may import only from the layers listed for it (and itself). */
const APP_ALLOWED = {
  shared: [],
  config: ['shared'],
  mime: ['shared'],
  crypto: ['shared', 'mime'],
  store: ['shared', 'config', 'mime'],
  // OAuth 2.0 sign-in (issue 18): PKCE, profiles, the loopback redirect, the token endpoint.
  oauth: ['shared', 'config'],
  keys: ['shared', 'config', 'mime', 'crypto', 'store'],
  imap: ['shared', 'config', 'mime'],
  smtp: ['shared', 'config', 'mime'],
  // Outgoing mail, built in one place: prepare, plan per recipient, build and encrypt the copies,
  // the Sent copy; it implements smtp's SubmissionPort and the outbox relay in sync reads what it queues.
  outgoing: ['shared', 'config', 'mime', 'crypto', 'keys', 'store', 'smtp'],
  sync: ['shared', 'config', 'mime', 'crypto', 'keys', 'store', 'oauth', 'outgoing'],
  control: [
    'shared',
    'config',
    'mime',
    'crypto',
    'keys',
    'store',
    'oauth',
    'imap',
    'smtp',
    'outgoing',
    'sync',
  ],
  // The headless command sits on top, beside app/index.ts (the composition root).
  cli: [...LAYERS, '(root)'],
};
/**
 * Top-level files of app/: what each may import (layers, and other top-level files by name).
 * index.ts is the composition root, host.ts the control host around it, cli.ts the command.
 * A new top-level file must be added here.
 */
const ROOT_ALLOWED = {
  'app/index.ts': LAYERS,
  'app/host.ts': ['shared', 'config', 'control', 'store', 'app/index.ts'],
  'app/cli.ts': ['shared', 'config', 'cli'],
};
/** Which layers may import native/ (the SQLCipher binding and the OS keychain); others only `import type`. */
const NATIVE_ALLOWED = ['store', '(root)'];
const NO_IO_DIRS = ['app/mime', 'app/crypto', 'app/imap/wire', 'app/oauth/core'];
const IO_MODULES = [
  'fs',
  'net',
  'tls',
  'http',
  'https',
  'http2',
  'dgram',
  'dns',
  'child_process',
  'cluster',
  'worker_threads',
  'undici',
];
/**
 * The crypto worker pool is the one place a no-I/O folder starts threads: it runs crypto's own pure
 * functions off the event loop, and moving it elsewhere would make crypto depend on its caller.
 */
const IO_EXCEPTIONS = {
  'app/crypto/worker-pool.ts': ['worker_threads'],
  'app/crypto/crypto-worker.ts': ['worker_threads'],
};
/** Where the program starts: every module under app/ and native/ must be reachable from one of these. */
const ENTRY_POINTS = ['app/cli.ts', 'app/host.ts', 'app/index.ts', 'main/index.ts', 'main/preload.ts'];
const UI_PACKAGES = ['electron', 'react', 'react-dom'];

function walk(dir) {
  const out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) {
      if (name === 'node_modules' || name === 'dist') continue;
      out.push(...walk(p));
    } else if (/\.(ts|tsx|mts|js|mjs)$/.test(name)) out.push(p);
  }
  return out;
}

const importRe =
  /(?:^|[\s;])(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/gm;
/** import() of anything but a string literal, or a CommonJS require: the checker could not see what it loads. */
const computedRe = /(?<![\w.$])import\(\s*(?!['"\s])|\bcreateRequire\b/g;
/** A worker entry started beside its spawner: `new URL('./name…', import.meta.url)`. */
const workerRe = /new\s+URL\(\s*[`'"]\.\/([\w.-]+?)(?:\$\{|\.ts|\.js|[`'"])/g;

/** Source with comments blanked out (so commented-out code neither counts nor hides anything). */
function stripComments(src) {
  return src.replace(/\/\*[\s\S]*?\*\/|(?<![:'"`\\])\/\/[^\n]*/g, (c) => c.replace(/[^\n]/g, ' '));
}

const sources = new Map();
function sourceOf(file) {
  let s = sources.get(file);
  if (s === undefined) {
    s = stripComments(readFileSync(file, 'utf8'));
    sources.set(file, s);
  }
  return s;
}

function importsOf(file) {
  const src = sourceOf(file);
  const out = [];
  for (const m of src.matchAll(importRe)) {
    const spec = m[2] ?? m[3] ?? m[4];
    if (spec) out.push({ spec, typeOnly: Boolean(m[1]) });
  }
  return out;
}

/** The file a relative import names (TypeScript sources import with `.ts`; tolerate `.js` and no extension). */
function resolveSpec(file, spec) {
  const base = resolve(dirname(file), spec);
  for (const c of [base, base.replace(/\.js$/, '.ts'), base + '.ts', join(base, 'index.ts')]) {
    try {
      if (statSync(c).isFile()) return c;
    } catch {
      // not this one
    }
  }
  return null;
}

const problems = [];
const rel = (p) => relative(root, p).split(sep).join('/');

for (const file of [...walk(join(root, 'app')), ...walk(join(root, 'native'))]) {
  const r = rel(file);
  for (const m of sourceOf(file).matchAll(computedRe)) {
    const line = sourceOf(file).slice(0, m.index).split('\n').length;
    problems.push(
      `${r}:${line}: computed import() or createRequire: import a string literal so the checker sees it`,
    );
  }
}

for (const file of walk(join(root, 'app'))) {
  const r = rel(file);
  const parts = r.split('/');
  const layer = parts.length > 2 ? parts[1] : null;
  if (!layer && !ROOT_ALLOWED[r])
    problems.push(
      `${r}: unknown top-level module of app/ (add it to ROOT_ALLOWED in scripts/check-layering.mjs)`,
    );
  for (const { spec, typeOnly } of importsOf(file)) {
    const bare = spec.replace(/^node:/, '').split('/')[0];
    if (UI_PACKAGES.includes(spec) || UI_PACKAGES.includes(bare))
      problems.push(`${r}: app/ must not import ${spec}`);
    const noIoDir = NO_IO_DIRS.filter((d) => r.startsWith(d + '/')).at(-1);
    if (
      noIoDir &&
      IO_MODULES.includes(bare) &&
      (spec.startsWith('node:') || IO_MODULES.includes(spec) || spec.startsWith(bare + '/')) &&
      !IO_EXCEPTIONS[r]?.includes(bare)
    )
      problems.push(`${r}: ${noIoDir} does no I/O, but imports ${spec}`);
    if (!spec.startsWith('.')) continue;
    const target = rel(resolve(dirname(file), spec));
    if (target.startsWith('main/') || target.startsWith('renderer/'))
      problems.push(`${r}: app/ must not import ${target}`);
    if (target.startsWith('test/')) problems.push(`${r}: app/ must not import test code (${target})`);
    if (target.startsWith('native/') && !typeOnly && !NATIVE_ALLOWED.includes(layer ?? '(root)'))
      problems.push(
        `${r}: app/${layer ?? '(root)'} may not import native/ (${spec}); only ${NATIVE_ALLOWED.join(', ')}`,
      );
    if (!target.startsWith('app/')) continue;
    const tparts = target.split('/');
    const tlayer = tparts.length > 2 ? tparts[1] : '(root)';
    if (!layer) {
      const allowedRoot = ROOT_ALLOWED[r] ?? [];
      const ok = tlayer === '(root)' ? allowedRoot.includes(target) : allowedRoot.includes(tlayer);
      if (!ok) problems.push(`${r}: ${r} may not import ${target} (allowed: ${allowedRoot.join(', ')})`);
      continue;
    }
    if (tlayer === layer) continue;
    const allowed = APP_ALLOWED[layer];
    if (!allowed) {
      problems.push(`${r}: unknown layer app/${layer} (add it to scripts/check-layering.mjs)`);
      continue;
    }
    if (!allowed.includes(tlayer)) problems.push(`${r}: app/${layer} may not import app/${tlayer} (${spec})`);
  }
}

for (const file of walk(join(root, 'renderer'))) {
  const r = rel(file);
  if (r.startsWith('renderer/vite.config')) continue;
  for (const { spec, typeOnly } of importsOf(file)) {
    if (spec === 'electron') problems.push(`${r}: renderer/ must not import electron`);
    if (!spec.startsWith('.')) continue;
    const target = rel(resolve(dirname(file), spec));
    if (target.startsWith('app/') && !(target.replace(/\.ts$/, '') === 'app/control/contract' && typeOnly))
      problems.push(`${r}: renderer/ may only 'import type' from app/control/contract.ts (got ${target})`);
    if (target.startsWith('main/')) problems.push(`${r}: renderer/ must not import main/`);
  }
}

/**
 * The Electron shell composes the engine like the CLI does: the composition root and its host, the contract,
 * the one error formatter, logging and the data-directory rule. Nothing deeper.
 */
const MAIN_MAY_IMPORT = [
  'app/index',
  'app/host',
  'app/control/contract',
  'app/control/errors',
  'app/config/logging',
  'app/config/paths',
];

for (const file of walk(join(root, 'main'))) {
  const r = rel(file);
  for (const { spec, typeOnly } of importsOf(file)) {
    if (r === 'main/preload.ts' && !typeOnly && spec !== 'electron')
      problems.push(`${r}: the sandboxed preload is one script: it may only 'import type' (got ${spec})`);
    if (!spec.startsWith('.')) continue;
    const target = rel(resolve(dirname(file), spec)).replace(/\.(ts|js)$/, '');
    if (target.startsWith('app/') && !MAIN_MAY_IMPORT.includes(target))
      problems.push(`${r}: main/ may import only ${MAIN_MAY_IMPORT.join(', ')} from app/ (got ${target})`);
    if (target.startsWith('renderer/')) problems.push(`${r}: main/ must not import renderer/`);
  }
}

// Only main/ may import electron (outside tests and tooling).
for (const dir of ['app', 'native', 'renderer']) {
  for (const file of walk(join(root, dir))) {
    for (const { spec } of importsOf(file)) {
      if (spec === 'electron' && dir !== 'renderer')
        problems.push(`${rel(file)}: only main/ imports electron`);
    }
  }
}

// The store owns its SQL: outside app/store nothing runs SQL or holds the database. The SQLite
// bindings are imported only by native/sqlcipher.ts (which opens the database for the store); the
// store's database module, its migrations and the opener only from app/store; no `.prepare(` or
// `.pragma(` calls and no SQL statement text (upper-case keywords, as the store writes them).
{
  const SQLITE_PACKAGES = ['better-sqlite3', 'better-sqlite3-multiple-ciphers', 'sqlite', 'sqlite3'];
  const OPENER = 'native/sqlcipher.ts';
  const STORE_ONLY = [/^app\/store\/sql\.ts$/, /^app\/store\/migrations\//, /^native\/sqlcipher\.ts$/];
  const CALL_RE = /\.(prepare|pragma)\s*[(<]/g;
  const LITERAL_RE = /'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g;
  const SQL_RE =
    /^[\s(]*(?:SELECT\b[\s\S]*\bFROM\b|INSERT\s+(?:OR\s+[A-Z]+\s+)?INTO\b|UPDATE\s+(?:OR\s+[A-Z]+\s+)?\w+\s+SET\b|DELETE\s+FROM\b|PRAGMA\s+\w|(?:CREATE|DROP)\s+(?:TEMP\s+|VIRTUAL\s+)?(?:TABLE|INDEX|TRIGGER|VIEW)\b|ALTER\s+TABLE\b|(?:BEGIN(?:\s+(?:IMMEDIATE|EXCLUSIVE|DEFERRED))?(?:\s+TRANSACTION)?|COMMIT|ROLLBACK|VACUUM|SAVEPOINT\s+\w+)\s*;?\s*$)/;
  const outside = [...walk(join(root, 'app')), ...walk(join(root, 'main')), ...walk(join(root, 'native'))]
    .map((f) => [f, rel(f)])
    .filter(([, r]) => !r.startsWith('app/store/') && r !== OPENER && !r.endsWith('.d.ts'));
  const lineOf = (src, i) => src.slice(0, i).split('\n').length;
  for (const [file, r] of outside) {
    for (const { spec } of importsOf(file)) {
      const bare = spec.replace(/^node:/, '');
      if (SQLITE_PACKAGES.includes(bare))
        problems.push(`${r}: only ${OPENER} imports ${spec}; the store owns the database`);
      if (!spec.startsWith('.')) continue;
      const target = rel(resolve(dirname(file), spec));
      if (STORE_ONLY.some((re) => re.test(target)))
        problems.push(`${r}: only app/store may import ${target} (use a repository of store.<repo>)`);
    }
    const src = sourceOf(file);
    for (const m of src.matchAll(CALL_RE))
      problems.push(`${r}:${lineOf(src, m.index)}: .${m[1]}() outside app/store: the store owns its SQL`);
    for (const m of src.matchAll(LITERAL_RE))
      if (SQL_RE.test(m[0].slice(1, -1)))
        problems.push(`${r}:${lineOf(src, m.index)}: SQL outside app/store: move it into a repository`);
  }
}

// Outgoing mail is written in one place, app/outgoing (submissions, the Sent/Drafts copy uploaded
// encrypted to self, the relay's failure notice). Outside it, app/mime (the MIME writer) and
// app/crypto (the PGP/MIME framing), nothing imports the MIME writer or the PGP/MIME builders, or
// calls a crypto engine's encryptMessage()/signMessage().
{
  const BUILDERS = ['app/mime/build.ts', 'app/crypto/pgp-mime-encrypt.ts', 'app/crypto/pgp-mime-sign.ts'];
  const OWNERS = ['app/mime/', 'app/crypto/', 'app/outgoing/'];
  const CALL_RE = /\.(encryptMessage|signMessage)\s*\(/g;
  for (const file of [
    ...walk(join(root, 'app')),
    ...walk(join(root, 'main')),
    ...walk(join(root, 'native')),
  ]) {
    const r = rel(file);
    if (OWNERS.some((o) => r.startsWith(o))) continue;
    for (const { spec, typeOnly } of importsOf(file)) {
      if (typeOnly || !spec.startsWith('.')) continue;
      const target = rel(resolveSpec(file, spec) ?? resolve(dirname(file), spec));
      if (BUILDERS.includes(target))
        problems.push(
          `${r}: imports ${target}: outgoing mail is built in app/outgoing only (call it instead)`,
        );
    }
    const src = sourceOf(file);
    for (const m of src.matchAll(CALL_RE)) {
      const line = src.slice(0, m.index).split('\n').length;
      problems.push(
        `${r}:${line}: .${m[1]}() outside app/outgoing: outgoing mail is built in app/outgoing only`,
      );
    }
  }
}

// Sync talks to the provider through RemoteMailbox (app/sync/remote/remote-mailbox.ts): imapflow
// sits behind it in the adapter and the connector, and nothing else imports it (type-only too).
{
  const IMAPFLOW_OWNERS = ['app/sync/remote/connect.ts', 'app/sync/remote/imapflow-mailbox.ts'];
  for (const file of [
    ...walk(join(root, 'app')),
    ...walk(join(root, 'main')),
    ...walk(join(root, 'native')),
  ]) {
    const r = rel(file);
    if (IMAPFLOW_OWNERS.includes(r)) continue;
    for (const { spec } of importsOf(file))
      if (spec === 'imapflow' || spec.startsWith('imapflow/'))
        problems.push(
          `${r}: imports imapflow: sync talks to the provider through RemoteMailbox (only ${IMAPFLOW_OWNERS.join(' and ')} import imapflow)`,
        );
  }
}

// No import cycles inside app/ (type-only imports count too: a cycle means two modules own one job).
{
  const files = walk(join(root, 'app'));
  const edges = new Map(
    files.map((f) => [
      f,
      importsOf(f)
        .filter(({ spec }) => spec.startsWith('.'))
        .map(({ spec }) => resolveSpec(f, spec))
        .filter((t) => t && t.startsWith(join(root, 'app') + sep)),
    ]),
  );
  // Tarjan's strongly connected components, iterative (linear in modules + imports).
  let next = 0;
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  for (const start of files) {
    if (index.has(start)) continue;
    const work = [[start, 0]];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const top = work[work.length - 1];
      const [v, i] = top;
      const out = edges.get(v) ?? [];
      if (i < out.length) {
        top[1]++;
        const w = out[i];
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push([w, 0]);
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(v)));
      }
      if (low.get(v) !== index.get(v)) continue;
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(rel(w));
      } while (w !== v);
      if (component.length > 1)
        problems.push(
          `import cycle: ${component.sort().join(' <-> ')} (move the shared part into its own module)`,
        );
    }
  }
}

// No dead code: every module under app/ and native/ is reached from an entry point through its
// imports (static, literal import(), or a worker started with `new URL('./name', import.meta.url)`).
{
  const seen = new Set();
  const stack = ENTRY_POINTS.map((e) => join(root, e)).filter((f) => {
    try {
      return statSync(f).isFile();
    } catch {
      return false;
    }
  });
  while (stack.length) {
    const file = stack.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const next = [];
    for (const { spec } of importsOf(file)) if (spec.startsWith('.')) next.push(resolveSpec(file, spec));
    for (const m of sourceOf(file).matchAll(workerRe)) next.push(resolveSpec(file, './' + m[1]));
    for (const t of next) if (t && !seen.has(t)) stack.push(t);
  }
  for (const file of [...walk(join(root, 'app')), ...walk(join(root, 'native'))]) {
    if (/\.d\.ts$/.test(file) || seen.has(file)) continue;
    problems.push(
      `${rel(file)}: unreachable from the entry points (${ENTRY_POINTS.join(', ')}): delete it or import it`,
    );
  }
}

if (problems.length) {
  console.error(`Layering check failed (${problems.length}):\n  ` + [...new Set(problems)].join('\n  '));
  process.exit(1);
}
console.log('layering: ok');
