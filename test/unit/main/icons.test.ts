// The icons in resources/ are what scripts/make-icons.mjs draws (re-rendered and compared pixel by
// pixel for the small ones), have the sizes the app and electron-builder expect, and the .ico and
// .icns containers list the right images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs script without type declarations
import * as icons from '../../../scripts/make-icons.mjs';

const make = icons as {
  appIconPixels(size: number): Uint8Array;
  trayIconPixels(state: string, size: number): Uint8Array;
  TRAY_STATES: string[];
  ICNS_TYPES: Record<number, string>;
};
const res = fileURLToPath(new URL('../../../resources/', import.meta.url));

/** Decodes the 8-bit RGBA, filter-0 PNGs that make-icons writes. */
function decodePng(buf: Buffer): { width: number; height: number; rgba: Buffer } {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let off = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8);
      assert.equal(data[9], 6);
    } else if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (width * 4 + 1)], 0, 'filter 0');
    raw.copy(rgba, y * width * 4, y * (width * 4 + 1) + 1, (y + 1) * (width * 4 + 1));
  }
  return { width, height, rgba };
}

test('tray icons: 16 px and @2x 32 px for every state, exactly what the script draws', () => {
  for (const state of make.TRAY_STATES) {
    for (const [file, size] of [
      [`tray-${state}.png`, 16],
      [`tray-${state}@2x.png`, 32],
    ] as const) {
      const png = decodePng(readFileSync(join(res, 'tray', file)));
      assert.equal(png.width, size);
      assert.equal(png.height, size);
      assert.deepEqual(png.rgba, Buffer.from(make.trayIconPixels(state, size)), `${file} is up to date`);
    }
  }
});

test('tray icons of different states differ', () => {
  const seen = new Set(
    make.TRAY_STATES.map((s) => readFileSync(join(res, 'tray', `tray-${s}.png`)).toString('base64')),
  );
  assert.equal(seen.size, make.TRAY_STATES.length);
});

test('app icon: 512 and 256 px PNGs, the Linux icon set, drawn by the script', () => {
  assert.equal(decodePng(readFileSync(join(res, 'icon.png'))).width, 512);
  assert.equal(decodePng(readFileSync(join(res, 'icon-256.png'))).width, 256);
  for (const size of [16, 32, 48, 64, 128, 256, 512]) {
    const png = decodePng(readFileSync(join(res, 'icons', `${size}x${size}.png`)));
    assert.equal(png.width, size);
    if (size <= 48) assert.deepEqual(png.rgba, Buffer.from(make.appIconPixels(size)), `${size} up to date`);
  }
});

test('icon.ico lists 16…256 px PNG images', () => {
  const ico = readFileSync(join(res, 'icon.ico'));
  assert.equal(ico.readUInt16LE(2), 1);
  const n = ico.readUInt16LE(4);
  const sizes: number[] = [];
  for (let k = 0; k < n; k++) {
    const e = 6 + 16 * k;
    const size = ico[e] === 0 ? 256 : ico[e]!;
    const len = ico.readUInt32LE(e + 8);
    const at = ico.readUInt32LE(e + 12);
    assert.equal(decodePng(ico.subarray(at, at + len)).width, size);
    sizes.push(size);
  }
  assert.deepEqual(sizes, [16, 24, 32, 48, 64, 128, 256]);
});

test('icon.icns holds PNG members up to 1024 px under the right type codes', () => {
  const icns = readFileSync(join(res, 'icon.icns'));
  assert.equal(icns.toString('ascii', 0, 4), 'icns');
  assert.equal(icns.readUInt32BE(4), icns.length);
  const found: string[] = [];
  for (let off = 8; off < icns.length;) {
    const type = icns.toString('ascii', off, off + 4);
    const len = icns.readUInt32BE(off + 4);
    const png = decodePng(icns.subarray(off + 8, off + len));
    assert.equal(make.ICNS_TYPES[png.width], type);
    found.push(type);
    off += len;
  }
  assert.deepEqual(found, ['icp4', 'icp5', 'ic07', 'ic08', 'ic09', 'ic10']);
});
