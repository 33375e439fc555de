/**
 * ASCII armor (RFC 9580 §6.2) of an outgoing OpenPGP message, written as the mail carries it:
 * CRLF line ends, in one pass over the bytes.
 *
 * The text is what openpgp.js's Message.armor() writes (no header lines, 60-character base64
 * lines, the CRC-24 line when openpgp.js would write one), with CRLF instead of LF. openpgp.js
 * armors through its stream transforms (chunks joined again and again) and gives a string that
 * still had to be encoded and have a CR put before every LF: several times the work, once per copy
 * of a message (a 1 MB message to 10 To/Cc and 3 Bcc is four copies of ~1.4 MB of armor).
 */
import * as openpgp from 'openpgp';

const BEGIN = Buffer.from('-----BEGIN PGP MESSAGE-----\r\n\r\n');
const END = Buffer.from('-----END PGP MESSAGE-----\r\n');
/** 45 bytes → 60 base64 characters, as openpgp.js breaks its lines. */
const LINE = 60;

const CRC24_INIT = 0xb704ce;
const CRC24_POLY = 0x864cfb;
const CRC24_TABLE = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i << 16;
  for (let j = 0; j < 8; j++) c = (c << 1) ^ (c & 0x800000 ? CRC24_POLY : 0);
  CRC24_TABLE[i] = c & 0xffffff;
}

/** RFC 9580 §6.1 CRC-24 of the bytes. */
function crc24(bytes: Uint8Array): number {
  let c = CRC24_INIT;
  for (let i = 0; i < bytes.length; i++)
    c = ((c << 8) ^ CRC24_TABLE[((c >> 16) ^ bytes[i]!) & 0xff]!) & 0xffffff;
  return c;
}

/** Packets and their bytes, written once (the data packets every copy of a message shares). */
export interface PacketRun {
  packets: readonly openpgp.AnyPacket[];
  bytes: Uint8Array;
}

/** Writes the packets (a SEIPD v2 packet is written as a stream by openpgp.js: read to its end). */
export async function writePackets(packets: readonly openpgp.AnyPacket[]): Promise<PacketRun> {
  const list = new openpgp.PacketList<openpgp.AnyPacket>();
  list.push(...packets);
  const written: unknown = list.write();
  if (written instanceof Uint8Array) return { packets, bytes: written };
  const reader = (written as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  return { packets, bytes: Buffer.concat(chunks) };
}

/**
 * Whether openpgp.js puts the CRC-24 line under a message's armor: not after a v2 SEIPD packet
 * (RFC 9580 forbids it there), else when the message ends in a v1 SEIPD packet, or carries a
 * signature packet that is not v6.
 */
function wantsChecksum(packets: readonly openpgp.AnyPacket[]): boolean {
  const last = packets[packets.length - 1];
  // (openpgp.js's typings leave out the SEIPD packet's version, 1 or 2)
  if (last instanceof openpgp.SymEncryptedIntegrityProtectedDataPacket)
    return (last as unknown as { version: number }).version !== 2;
  return packets.some((p) => p instanceof openpgp.SignaturePacket && p.version !== 6);
}

/** The armored message made of these runs of packets, in order (e.g. a copy's own PKESKs, then the shared data). */
export function armorMessage(runs: readonly PacketRun[]): Buffer {
  const bytes = Buffer.concat(runs.map((r) => r.bytes));
  const base64 = Buffer.from(bytes.toString('base64'), 'latin1');
  let tail = END;
  if (wantsChecksum(runs.flatMap((r) => r.packets))) {
    const c = crc24(bytes);
    const sum = Buffer.from([c >> 16, (c >> 8) & 0xff, c & 0xff]).toString('base64');
    tail = Buffer.concat([Buffer.from(`=${sum}\r\n`), END]);
  }
  const lines = Math.ceil(base64.length / LINE);
  const out = Buffer.allocUnsafe(BEGIN.length + base64.length + 2 * lines + tail.length);
  let o = BEGIN.copy(out, 0);
  for (let i = 0; i < base64.length; i += LINE) {
    o += base64.copy(out, o, i, Math.min(i + LINE, base64.length));
    out[o++] = 13;
    out[o++] = 10;
  }
  tail.copy(out, o);
  return out;
}
