// The WKD download's store-only ZIP writer: CRC-32 against known values and zlib, and archives
// that the real `unzip` lists, tests (CRC) and extracts byte for byte, with parent folders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { base64ToBytes, crc32, createZip, dosDateTime } from '../../../renderer/src/zip.ts';
import { wkdZipEntries } from '../../../renderer/src/wkd-files.ts';

const enc = (s: string) => new TextEncoder().encode(s);

test('crc32: standard check value, empty input, agreement with zlib', () => {
  assert.equal(crc32(enc('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  const bytes = new Uint8Array(70_000).map((_, i) => (i * 31 + 7) & 0xff);
  assert.equal(crc32(bytes), zlibCrc32(bytes));
});

test('dosDateTime packs fields (2 s resolution, years from 1980)', () => {
  const { time, date } = dosDateTime(new Date(2026, 2, 14, 13, 45, 59));
  assert.equal(time, (13 << 11) | (45 << 5) | 29);
  assert.equal(date, ((2026 - 1980) << 9) | (3 << 5) | 14);
  assert.equal(dosDateTime(new Date(1970, 0, 1)).date >> 9, 0, 'clamped to 1980');
});

test('unzip lists, checks and extracts the archive exactly', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lb-zip-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const binary = new Uint8Array(5000).map((_, i) => (i * 17) & 0xff);
  const files: Record<string, Uint8Array> = {
    '.well-known/openpgpkey/example.org/hu/kei1q4tipxxu1yj79k9kfukdhfy631xe': binary,
    '.well-known/openpgpkey/example.org/policy': new Uint8Array(0),
    'README-ü.txt': enc('grüße\n'),
  };
  const zip = createZip(Object.entries(files).map(([path, data]) => ({ path, data })));
  const file = join(dir, 'wkd.zip');
  writeFileSync(file, zip);

  const check = spawnSync('unzip', ['-t', file], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /No errors detected/);

  const list = spawnSync('unzip', ['-Z1', file], { encoding: 'utf8' });
  const names = list.stdout.trim().split('\n');
  for (const dirName of [
    '.well-known/',
    '.well-known/openpgpkey/',
    '.well-known/openpgpkey/example.org/',
    '.well-known/openpgpkey/example.org/hu/',
  ])
    assert.ok(names.includes(dirName), `folder entry ${dirName}`);

  const out = join(dir, 'out');
  const x = spawnSync('unzip', ['-q', file, '-d', out], { encoding: 'utf8' });
  assert.equal(x.status, 0, x.stderr);
  for (const [path, data] of Object.entries(files))
    assert.deepEqual(new Uint8Array(readFileSync(join(out, path))), data, path);
});

test('bad paths are refused; base64 decodes', () => {
  assert.throws(() => createZip([{ path: '../etc/passwd', data: new Uint8Array(1) }]), /bad path/);
  assert.throws(() => createZip([{ path: '', data: new Uint8Array(1) }]), /bad path/);
  assert.throws(
    () =>
      createZip([
        { path: 'a/b', data: new Uint8Array(1) },
        { path: 'a//b', data: new Uint8Array(1) },
      ]),
    /duplicate/,
  );
  assert.deepEqual(base64ToBytes('AAEC/w=='), new Uint8Array([0, 1, 2, 255]));
});

test('the WKD tree goes under .well-known/ in the archive', () => {
  const entries = wkdZipEntries({ 'openpgpkey/policy': '', 'openpgpkey/hu/abc': 'AQID' });
  assert.deepEqual(
    entries.map((e) => e.path),
    ['.well-known/openpgpkey/hu/abc', '.well-known/openpgpkey/policy'],
  );
  assert.deepEqual(entries[0]?.data, new Uint8Array([1, 2, 3]));
  assert.equal(
    wkdZipEntries({ '.well-known/openpgpkey/policy': '' })[0]?.path,
    '.well-known/openpgpkey/policy',
  );
});
