/** Raw MIME storage codec: 0 = stored as is, 1 = deflate-raw. */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

export const RAW_PLAIN = 0;
export const RAW_DEFLATE = 1;

export function decodeRaw(compression: number, data: Buffer): Buffer {
  if (compression === RAW_PLAIN) return data;
  if (compression === RAW_DEFLATE) return inflateRawSync(data);
  throw new Error(`unknown raw compression ${compression}`);
}

export function encodeRaw(compression: number, raw: Buffer): Buffer {
  if (compression === RAW_PLAIN) return raw;
  if (compression === RAW_DEFLATE) return deflateRawSync(raw, { level: 1 });
  throw new Error(`unknown raw compression ${compression}`);
}
