// Draws Lockbridge's icons into resources/ — no image tools needed, so anyone can regenerate them:
//   scripts/node24 scripts/make-icons.mjs
// The app icon is a white padlock whose body carries an envelope flap, on a blue rounded square;
// the tray icons are the padlock alone, coloured by state, with a badge for syncing (a ring) and
// error (a dot), so the state does not rest on colour alone. Shapes are signed-distance functions
// sampled 4×4 per pixel; the files are PNG, a PNG-compressed .ico and .icns.
import { Buffer } from 'node:buffer';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(root, 'resources');

// --- shapes (unit coordinates, y down); each returns a signed distance, < 0 inside ---
const roundRect = (cx, cy, hw, hh, r) => (x, y) => {
  const qx = Math.abs(x - cx) - (hw - r);
  const qy = Math.abs(y - cy) - (hh - r);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
};
const circle = (cx, cy, r) => (x, y) => Math.hypot(x - cx, y - cy) - r;
const capsule = (ax, ay, bx, by, r) => (x, y) => {
  const px = x - ax;
  const py = y - ay;
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, (px * dx + py * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - dx * t, py - dy * t) - r;
};
const union =
  (...fs) =>
  (x, y) =>
    Math.min(...fs.map((f) => f(x, y)));
const subtract = (a, b) => (x, y) => Math.max(a(x, y), -b(x, y));
/** The upper half of a ring (the shackle's arc). */
const upperRing = (cx, cy, r, w) => (x, y) => {
  if (y > cy) return Math.min(Math.hypot(x - (cx - r), y - cy), Math.hypot(x - (cx + r), y - cy)) - w;
  return Math.abs(Math.hypot(x - cx, y - cy) - r) - w;
};

/** The padlock inside the box (x0, y0, s): shackle, body, and what is cut into the body. */
function padlock(x0, y0, s, { flap = false, keyhole = false } = {}) {
  const X = (v) => x0 + v * s;
  const Y = (v) => y0 + v * s;
  const bodyTop = 0.44;
  const shackle = union(
    upperRing(X(0.5), Y(0.36), 0.2 * s, 0.065 * s),
    capsule(X(0.3), Y(0.36), X(0.3), Y(bodyTop + 0.04), 0.065 * s),
    capsule(X(0.7), Y(0.36), X(0.7), Y(bodyTop + 0.04), 0.065 * s),
  );
  const body = roundRect(X(0.5), Y(0.69), 0.36 * s, 0.25 * s, 0.07 * s);
  let cut = null;
  if (flap)
    cut = union(
      capsule(X(0.22), Y(0.52), X(0.5), Y(0.72), 0.035 * s),
      capsule(X(0.5), Y(0.72), X(0.78), Y(0.52), 0.035 * s),
    );
  if (keyhole)
    cut = union(circle(X(0.5), Y(0.64), 0.075 * s), capsule(X(0.5), Y(0.66), X(0.5), Y(0.8), 0.035 * s));
  return { shackle, body, cut };
}

// --- raster ---
const SS = 4;
/** layers: [{ shape, color: [r,g,b,a 0..1] | (x,y)=>color }] painted in order. Returns RGBA bytes. */
export function raster(size, layers) {
  const px = new Uint8Array(size * size * 4);
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sj = 0; sj < SS; sj++) {
        for (let si = 0; si < SS; si++) {
          const x = (i + (si + 0.5) / SS) / size;
          const y = (j + (sj + 0.5) / SS) / size;
          let cr = 0;
          let cg = 0;
          let cb = 0;
          let ca = 0;
          for (const layer of layers) {
            if (layer.shape(x, y) >= 0) continue;
            const c = typeof layer.color === 'function' ? layer.color(x, y) : layer.color;
            // "over", premultiplied
            cr = c[0] * c[3] + cr * (1 - c[3]);
            cg = c[1] * c[3] + cg * (1 - c[3]);
            cb = c[2] * c[3] + cb * (1 - c[3]);
            ca = c[3] + ca * (1 - c[3]);
          }
          r += cr;
          g += cg;
          b += cb;
          a += ca;
        }
      }
      const n = SS * SS;
      const o = (j * size + i) * 4;
      const alpha = a / n;
      px[o + 3] = Math.round(alpha * 255);
      if (alpha > 0) {
        px[o] = Math.round(Math.min(1, r / n / alpha) * 255);
        px[o + 1] = Math.round(Math.min(1, g / n / alpha) * 255);
        px[o + 2] = Math.round(Math.min(1, b / n / alpha) * 255);
      }
    }
  }
  return px;
}

const hex = (h, a = 1) => [
  parseInt(h.slice(1, 3), 16) / 255,
  parseInt(h.slice(3, 5), 16) / 255,
  parseInt(h.slice(5, 7), 16) / 255,
  a,
];
const mix = (c1, c2, t) => c1.map((v, k) => v + (c2[k] - v) * t);

export function appIconPixels(size) {
  const top = hex('#2a78b0');
  const bottom = hex('#17405f');
  const bg = roundRect(0.5, 0.5, 0.46, 0.46, 0.2);
  const lock = padlock(0.2, 0.17, 0.6, { flap: true });
  const body = lock.cut ? subtract(lock.body, lock.cut) : lock.body;
  return raster(size, [
    { shape: bg, color: (_x, y) => mix(top, bottom, Math.max(0, Math.min(1, (y - 0.04) / 0.92))) },
    { shape: lock.shackle, color: hex('#d6e4ef') },
    { shape: body, color: hex('#ffffff') },
  ]);
}

export const TRAY_COLORS = {
  locked: '#8a9099',
  syncing: '#2f7fd0',
  ok: '#2e9d6a',
  error: '#d23c3c',
};

export function trayIconPixels(state, size) {
  const lock = padlock(0.04, 0.02, 0.92, { keyhole: state === 'locked' });
  const color = hex(TRAY_COLORS[state]);
  const outline = hex('#1b1f24', 0.55);
  const grow = (f, d) => (x, y) => f(x, y) - d;
  const stroke = 1.1 / size; // about one pixel of dark edge: visible on light and dark panels
  const body = lock.cut ? subtract(lock.body, lock.cut) : lock.body;
  const layers = [
    { shape: grow(union(lock.shackle, lock.body), stroke), color: outline },
    { shape: lock.shackle, color },
    { shape: body, color },
  ];
  if (state === 'syncing' || state === 'error') {
    const badgeEdge = circle(0.76, 0.76, 0.25);
    layers.push({ shape: badgeEdge, color: hex('#ffffff') });
    if (state === 'error') layers.push({ shape: circle(0.76, 0.76, 0.2), color: hex('#d23c3c') });
    else
      layers.push({
        shape: subtract(circle(0.76, 0.76, 0.2), circle(0.76, 0.76, 0.11)),
        color: hex('#2f7fd0'),
      });
  }
  return raster(size, layers);
}

// --- file formats ---
const CRC_TABLE = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(buf) {
  let c = -1;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
export function encodePng(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    Buffer.from(rgba.buffer, rgba.byteOffset + y * size * 4, size * 4).copy(raw, y * (size * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A Windows .ico whose images are PNGs (Vista and later; what electron-builder and NSIS take). */
export function encodeIco(images) {
  const header = Buffer.alloc(6 + 16 * images.length);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach(({ size, png }, k) => {
    const e = 6 + 16 * k;
    header[e] = size >= 256 ? 0 : size;
    header[e + 1] = size >= 256 ? 0 : size;
    header.writeUInt16LE(1, e + 4); // planes
    header.writeUInt16LE(32, e + 6); // bits per pixel
    header.writeUInt32LE(png.length, e + 8);
    header.writeUInt32LE(offset, e + 12);
    offset += png.length;
  });
  return Buffer.concat([header, ...images.map((i) => i.png)]);
}

/** A macOS .icns with PNG members (icp4 16, icp5 32, ic07 128, ic08 256, ic09 512, ic10 1024). */
export const ICNS_TYPES = { 16: 'icp4', 32: 'icp5', 128: 'ic07', 256: 'ic08', 512: 'ic09', 1024: 'ic10' };
export function encodeIcns(images) {
  const parts = images.map(({ size, png }) => {
    const head = Buffer.alloc(8);
    head.write(ICNS_TYPES[size], 0, 'ascii');
    head.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([head, png]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'ascii');
  head.writeUInt32BE(8 + parts.reduce((n, p) => n + p.length, 0), 4);
  return Buffer.concat([head, ...parts]);
}

export const APP_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];
export const TRAY_STATES = ['locked', 'syncing', 'ok', 'error'];

export function makeIcons(out = OUT) {
  mkdirSync(join(out, 'icons'), { recursive: true });
  mkdirSync(join(out, 'tray'), { recursive: true });
  const png = {};
  for (const size of APP_SIZES) png[size] = encodePng(size, appIconPixels(size));
  writeFileSync(join(out, 'icon.png'), png[512]);
  writeFileSync(join(out, 'icon-256.png'), png[256]);
  // Linux: electron-builder takes a folder of NxN.png for the hicolor theme.
  for (const size of [16, 32, 48, 64, 128, 256, 512])
    writeFileSync(join(out, 'icons', `${size}x${size}.png`), png[size]);
  writeFileSync(
    join(out, 'icon.ico'),
    encodeIco([16, 24, 32, 48, 64, 128, 256].map((size) => ({ size, png: png[size] }))),
  );
  writeFileSync(
    join(out, 'icon.icns'),
    encodeIcns([16, 32, 128, 256, 512, 1024].map((size) => ({ size, png: png[size] }))),
  );
  for (const state of TRAY_STATES) {
    writeFileSync(join(out, 'tray', `tray-${state}.png`), encodePng(16, trayIconPixels(state, 16)));
    writeFileSync(join(out, 'tray', `tray-${state}@2x.png`), encodePng(32, trayIconPixels(state, 32)));
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  makeIcons();
  console.log(`icons written to ${OUT}`);
}
