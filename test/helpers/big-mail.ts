/**
 * Big message bodies for the event-loop tests, built without big temporary strings: a 20 MB
 * base64 string and its line-broken copy are garbage that the next full GC of the test process
 * then collects while the loop is being measured (55-190 ms, seen with --trace-gc).
 */
import type { Seeded } from './seeded.ts';

/** `n` seeded random bytes. */
export function randomBytesFrom(random: Seeded, n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let i = 0;
  for (; i + 4 <= n; i += 4) out.writeUInt32LE(Math.floor(random.next() * 2 ** 32), i);
  for (; i < n; i++) out[i] = random.int(256);
  return out;
}

/**
 * Base64 of `n` seeded random bytes (random.int(256) each), a CRLF after every 76 characters: text
 * that neither deflate nor the store can squeeze.
 */
export function randomBase64(random: Seeded, n: number): string {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = random.int(256);
  return b.toString('base64').replace(/.{76}/g, '$&\r\n');
}

/** `bin` in base64, 76 characters per CRLF-ended line (as MIME writes attachments). */
export function base64Lines(bin: Buffer): Buffer {
  const lines = Math.ceil(bin.length / 57);
  const out = Buffer.allocUnsafe(Math.ceil(bin.length / 3) * 4 + lines * 2);
  let at = 0;
  for (let i = 0; i < bin.length; i += 57) {
    at += out.write(bin.toString('base64', i, Math.min(i + 57, bin.length)), at, 'latin1');
    at += out.write('\r\n', at, 'latin1');
  }
  return out.subarray(0, at);
}
