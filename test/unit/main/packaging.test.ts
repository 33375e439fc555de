// The packaging configuration, checked offline as far as it goes:
// - electron-builder.yml passes electron-builder's own loader and JSON-schema validator (and that
//   validator does reject a broken configuration);
// - every file it references exists; the SQLCipher binding's prebuilt binary for every target is
//   matched by asarUnpack;
// - build:main compiles main/ + the engine, and the compiled pure modules load under Node;
// - `electron-builder --dir` runs with a stand-in Electron distribution (the real one cannot be
//   downloaded here) and the resulting app.asar holds the app, with the native module unpacked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as IpcModule from '../../../main/ipc.ts';
import type * as TrayModule from '../../../main/tray.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const require = createRequire(import.meta.url);
const { getConfig, validateConfiguration } = require(
  join(root, 'node_modules/app-builder-lib/out/util/config/config.js'),
) as {
  getConfig(dir: string, file: string, opts: null): Promise<Record<string, unknown>>;
  validateConfiguration(c: unknown, log: { isEnabled: boolean }): Promise<void>;
};
const minimatch = (
  require(join(root, 'node_modules/minimatch')) as {
    minimatch: (p: string, g: string, o?: object) => boolean;
  }
).minimatch;

type Config = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
async function loadConfig(): Promise<Config> {
  return (await getConfig(root, 'electron-builder.yml', null)) as Config;
}

test('electron-builder.yml passes electron-builder’s own schema validation', async () => {
  const config = await loadConfig();
  await validateConfiguration(config, { isEnabled: false });
  assert.equal(config.appId, 'org.lockbridge.Lockbridge');
  assert.equal(config.productName, 'Lockbridge');
  assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
  assert.equal(config.linux.category, 'Network;Email');
  assert.ok(config.linux.maintainer);
  assert.equal(config.mac.target[0].target, 'dmg');
  assert.equal(config.mac.hardenedRuntime, true);
  assert.equal(config.win.target[0].target, 'nsis');
  assert.equal(config.npmRebuild, false);
});

test('the validator really rejects a broken configuration', async () => {
  const config = await loadConfig();
  await assert.rejects(
    validateConfiguration({ ...config, linux: { ...config.linux, targett: 'deb' } }, { isEnabled: false }),
  );
  await assert.rejects(validateConfiguration({ ...config, notAnOption: true }, { isEnabled: false }));
});

test('every file the configuration references exists', async () => {
  const config = await loadConfig();
  const files = [
    config.linux.icon,
    config.mac.icon,
    config.mac.entitlements,
    config.mac.entitlementsInherit,
    config.win.icon,
    config.nsis.installerIcon,
    config.nsis.uninstallerIcon,
  ];
  for (const f of files) assert.ok(existsSync(join(root, f)), f);
  for (const size of [16, 32, 48, 64, 128, 256, 512])
    assert.ok(existsSync(join(root, config.linux.icon, `${size}x${size}.png`)), `linux icon ${size}`);
  assert.match(
    readFileSync(join(root, config.mac.entitlements), 'utf8'),
    /com\.apple\.security\.cs\.allow-jit/,
  );
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string };
  assert.equal(pkg.main, 'dist/main/index.js');
});

test('the SQLCipher binary of every target platform is included and unpacked from the asar', async () => {
  const config = await loadConfig();
  // the loader normalizes `files` to [{ filter: [...] }]
  const files: string[] = (config.files as (string | { filter: string[] })[]).flatMap((f) =>
    typeof f === 'string' ? [f] : f.filter,
  );
  const unpack: string[] = config.asarUnpack;
  const dir = join(root, 'node_modules/better-sqlite3-multiple-ciphers');
  // how the binding finds its binary (lib/binding.js): prebuilds/<platform>-<arch>.node
  assert.match(readFileSync(join(dir, 'lib/binding.js'), 'utf8'), /'prebuilds', `\$\{target\}\.node`/);
  for (const [platform, arch] of [
    ['linux', 'x64'],
    ['darwin', 'x64'],
    ['darwin', 'arm64'],
    ['win32', 'x64'],
  ] as const) {
    const rel = `node_modules/better-sqlite3-multiple-ciphers/prebuilds/${platform}-${arch}.node`;
    assert.ok(existsSync(join(root, rel)), rel);
    assert.ok(
      unpack.some((g) => minimatch(rel, g)),
      `asarUnpack matches ${rel}`,
    );
    const expanded = files.map((f) => f.replace('${platform}', platform).replace('${arch}', arch));
    // electron-builder: the last matching pattern wins
    let included = false;
    for (const g of expanded) {
      if (g.startsWith('!')) {
        if (minimatch(rel, g.slice(1))) included = false;
      } else if (minimatch(rel, g)) included = true;
    }
    assert.ok(included, `files includes ${rel}`);
  }
  // it is Node-API, so the same binary loads in Electron: no rebuild against Electron's headers
  assert.match(readFileSync(join(dir, 'binding.gyp'), 'utf8'), /NAPI_VERSION=/);
});

test('build:main compiles the shell; compiled pure modules and the engine load under Node', async () => {
  const r = spawnSync(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', join(root, 'scripts/build-main.mjs')],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  for (const f of ['index.js', 'ipc.js', 'tray.js', 'lifecycle.js', 'preload.cjs'])
    assert.ok(existsSync(join(root, 'dist/main', f)), f);
  assert.ok(!existsSync(join(root, 'dist/main/preload.js')), 'no ES-module preload left over');
  const ipc = (await import(pathToFileURL(join(root, 'dist/main/ipc.js')).href)) as typeof IpcModule;
  assert.throws(() => ipc.validateCall({ method: 'nope', args: [] }), /unknown method/);
  const tray = (await import(pathToFileURL(join(root, 'dist/main/tray.js')).href)) as typeof TrayModule;
  assert.equal(tray.trayState({ status: null }), 'locked');
  // the main process takes the host from app/host.ts (app/index.ts no longer re-exports it)
  const engine = (await import(pathToFileURL(join(root, 'dist/app/host.js')).href)) as Record<
    string,
    unknown
  >;
  assert.equal(typeof engine.createBridgeHost, 'function');
  // worker threads start from the compiled .js entries (not the .ts sources)
  const pool = (await import(pathToFileURL(join(root, 'dist/app/store/import/prepare-pool.js')).href)) as {
    PreparePool: new (o: { compress: boolean; threads: number }) => {
      run(raws: Buffer[]): Promise<unknown[]>;
      close(): Promise<void>;
    };
  };
  const prep = new pool.PreparePool({ compress: true, threads: 1 });
  try {
    const out = await prep.run([Buffer.from('Subject: compiled\r\nFrom: a@example.test\r\n\r\nbody\r\n')]);
    assert.equal(out.length, 1);
  } finally {
    await prep.close();
  }
  // the preload Electron runs is the stripped source, byte for byte what the unit test ran
  const { stripTypeScriptTypes } = await import('node:module');
  assert.equal(
    readFileSync(join(root, 'dist/main/preload.cjs'), 'utf8'),
    stripTypeScriptTypes(readFileSync(join(root, 'main/preload.ts'), 'utf8'), { mode: 'strip' }),
  );
  // index.js imports electron (only it does)
  assert.match(readFileSync(join(root, 'dist/main/index.js'), 'utf8'), /from 'electron'/);
  assert.doesNotMatch(readFileSync(join(root, 'dist/main/ipc.js'), 'utf8'), /electron'/);
});

test('electron-builder --dir packs the app offline with a stand-in Electron', { timeout: 240_000 }, () => {
  if (!existsSync(join(root, 'dist/main/index.js'))) assert.fail('build:main did not run');
  const tmp = mkdtempSync(join(tmpdir(), 'lb-pack-'));
  try {
    // What electron-builder copies from an Electron distribution: the binary (here a stub script).
    const fakeDist = join(tmp, 'electron-dist');
    mkdirSync(join(fakeDist, 'resources'), { recursive: true });
    writeFileSync(join(fakeDist, 'electron'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(fakeDist, 'electron'), 0o755);
    writeFileSync(join(fakeDist, 'version'), '45.4.1');
    const out = join(tmp, 'out');
    const r = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules/electron-builder/cli.js'),
        '--dir',
        '--linux',
        '--x64',
        `-c.electronDist=${fakeDist}`,
        `-c.directories.output=${out}`,
      ],
      { cwd: root, encoding: 'utf8', env: { ...process.env, ELECTRON_BUILDER_CACHE: join(tmp, 'cache') } },
    );
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const resources = join(out, 'linux-unpacked', 'resources');
    assert.ok(existsSync(join(out, 'linux-unpacked', 'lockbridge')), 'the executable is named lockbridge');
    const asar = require(join(root, 'node_modules/@electron/asar')) as {
      listPackage(p: string, o: { isPack: boolean }): string[];
      statFile(p: string, f: string): { unpacked?: boolean };
    };
    const listed = new Set(
      asar.listPackage(join(resources, 'app.asar'), { isPack: false }).map((f) => f.replace(/\\/g, '/')),
    );
    for (const f of [
      '/package.json',
      '/dist/main/index.js',
      '/dist/main/preload.cjs',
      '/dist/app/index.js',
      '/dist/app/crypto/crypto-worker.js',
      '/dist/app/store/import/prepare-worker.js',
      '/resources/tray/tray-ok.png',
      '/resources/tray/tray-ok@2x.png',
      '/resources/icon-256.png',
      '/node_modules/better-sqlite3-multiple-ciphers/lib/index.js',
      '/node_modules/openpgp/package.json',
    ])
      assert.ok(listed.has(f), `app.asar has ${f}`);
    if (existsSync(join(root, 'renderer/dist/index.html')))
      assert.ok(listed.has('/renderer/dist/index.html'));
    for (const f of listed) {
      assert.ok(
        !f.startsWith('/test/') && !f.startsWith('/app/') && !f.startsWith('/.tools/'),
        `no sources: ${f}`,
      );
      assert.ok(!f.includes('/node_modules/electron/'), `no electron package: ${f}`);
      assert.ok(!f.includes('better-sqlite3-multiple-ciphers/deps/'), `no SQLite sources: ${f}`);
    }
    const native = 'node_modules/better-sqlite3-multiple-ciphers/prebuilds/linux-x64.node';
    assert.ok(existsSync(join(resources, 'app.asar.unpacked', native)), 'the native module is unpacked');
    assert.equal(
      asar.statFile(join(resources, 'app.asar'), native).unpacked,
      true,
      'and marked unpacked in the asar',
    );
    // the malloc_trim seam's FFI binding (koffi): its binary for the target is unpacked too
    const koffi = 'node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node';
    assert.ok(existsSync(join(resources, 'app.asar.unpacked', koffi)), 'koffi’s binary is unpacked');
    assert.ok(
      !existsSync(
        join(
          resources,
          'app.asar.unpacked/node_modules/better-sqlite3-multiple-ciphers/prebuilds/win32-x64.node',
        ),
      ),
      'other platforms’ binaries are left out',
    );
    const packedPkg = JSON.parse(
      spawnSync(
        process.execPath,
        [
          '-e',
          `process.stdout.write(require(${JSON.stringify(join(root, 'node_modules/@electron/asar'))}).extractFile(${JSON.stringify(join(resources, 'app.asar'))}, 'package.json').toString())`,
        ],
        { encoding: 'utf8' },
      ).stdout,
    ) as { main: string; desktopName: string };
    assert.equal(packedPkg.main, 'dist/main/index.js');
    assert.equal(packedPkg.desktopName, 'lockbridge.desktop');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
