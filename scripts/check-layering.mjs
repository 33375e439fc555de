// Layering check (runs in CI): every import in app/, main/, renderer/ is checked against the
// architecture's rules. Exits 1 and names each violation.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve, sep } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');

/** Layers inside app/: a module may import only from the layers listed for it (and itself). */
const APP_ALLOWED = {
  shared: [],
  config: ['shared'],
  mime: ['shared'],
  crypto: ['shared', 'mime'],
  store: ['shared', 'config', 'mime'],
  keys: ['shared', 'config', 'mime', 'crypto', 'store'],
  imap: ['shared', 'config', 'mime'],
  smtp: ['shared', 'config', 'mime'],
  sync: ['shared', 'config', 'mime', 'crypto', 'keys', 'store'],
  control: ['shared', 'config', 'mime', 'crypto', 'keys', 'store', 'imap', 'smtp', 'sync'],
  // The headless command sits on top, beside app/index.ts (the composition root).
  cli: ['shared', 'config', 'mime', 'crypto', 'keys', 'store', 'imap', 'smtp', 'sync', 'control', '(root)'],
};
/** Top-level files of app/ (index.ts, cli.ts) may import any layer; `import type` of app/control/contract.ts is allowed everywhere. */
const NO_IO_DIRS = ['app/mime', 'app/crypto', 'app/imap/wire'];
const IO_MODULES = ['fs', 'net', 'tls', 'http', 'https', 'http2', 'dgram', 'dns', 'child_process', 'cluster'];
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

function importsOf(file) {
  const src = readFileSync(file, 'utf8');
  const out = [];
  for (const m of src.matchAll(importRe)) {
    const spec = m[2] ?? m[3] ?? m[4];
    if (spec) out.push({ spec, typeOnly: Boolean(m[1]) });
  }
  return out;
}

const problems = [];
const rel = (p) => relative(root, p).split(sep).join('/');

for (const file of walk(join(root, 'app'))) {
  const r = rel(file);
  const parts = r.split('/');
  const layer = parts.length > 2 ? parts[1] : null;
  for (const { spec, typeOnly } of importsOf(file)) {
    const bare = spec.replace(/^node:/, '').split('/')[0];
    if (UI_PACKAGES.includes(spec) || UI_PACKAGES.includes(bare))
      problems.push(`${r}: app/ must not import ${spec}`);
    if (
      NO_IO_DIRS.some((d) => r.startsWith(d + '/')) &&
      IO_MODULES.includes(bare) &&
      (spec.startsWith('node:') || IO_MODULES.includes(spec))
    )
      problems.push(`${r}: ${parts.slice(0, 3).join('/')} does no I/O, but imports ${spec}`);
    if (!spec.startsWith('.')) continue;
    const target = rel(resolve(dirname(file), spec));
    if (target.startsWith('main/') || target.startsWith('renderer/'))
      problems.push(`${r}: app/ must not import ${target}`);
    if (target.startsWith('test/')) problems.push(`${r}: app/ must not import test code (${target})`);
    if (!layer || !target.startsWith('app/')) continue;
    const tparts = target.split('/');
    const tlayer = tparts.length > 2 ? tparts[1] : '(root)';
    if (tlayer === layer) continue;
    // The control contract is the shared vocabulary: its types may be imported from any layer.
    if (typeOnly && target.replace(/\.ts$/, '') === 'app/control/contract') continue;
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
 * The Electron shell composes the engine like the CLI does: the composition root, the contract,
 * the one error formatter, logging and the data-directory rule. Nothing deeper.
 */
const MAIN_MAY_IMPORT = [
  'app/index',
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

if (problems.length) {
  console.error(`Layering check failed (${problems.length}):\n  ` + [...new Set(problems)].join('\n  '));
  process.exit(1);
}
console.log('layering: ok');
