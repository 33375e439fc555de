// `npm run build:main`: compiles the Electron shell (main/) and the engine it imports (app/,
// native/) to dist/ for Electron, which does not run TypeScript. tsc rewrites the relative `.ts`
// imports to `.js`. The preload is different: Electron's sandbox runs it as one classic script, so
// it is self-contained (only `import type`) and its types are stripped into dist/main/preload.cjs.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const dist = join(root, 'dist');

/** The preload as Electron will run it: the TypeScript source with its types blanked out. */
export function buildPreload(source) {
  return stripTypeScriptTypes(source, { mode: 'strip' });
}

export function build() {
  for (const dir of ['main', 'app', 'native']) rmSync(join(dist, dir), { recursive: true, force: true });

  const tsc = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(root, 'tsconfig.main.json'),
      '--noEmit',
      'false',
    ],
    { cwd: root, stdio: 'inherit' },
  );
  if (tsc.status !== 0) throw new Error(`tsc failed (${tsc.status})`);

  rmSync(join(dist, 'main', 'preload.js'), { force: true });
  writeFileSync(
    join(dist, 'main', 'preload.cjs'),
    buildPreload(readFileSync(join(root, 'main', 'preload.ts'), 'utf8')),
  );
  console.log('build:main: dist/main/index.js, dist/main/preload.cjs');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) build();
