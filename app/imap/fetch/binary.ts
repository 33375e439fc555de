/** Content-transfer-encoding decoding for BINARY[] (RFC 3516). */
import { ImapNoError } from '../errors.ts';

function decodeQuotedPrintable(b: Buffer): Buffer {
  const out = Buffer.alloc(b.length);
  let o = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x3d) {
      const h1 = b[i + 1];
      const h2 = b[i + 2];
      if (h1 === 0x0d && h2 === 0x0a) {
        i += 2;
        continue;
      }
      if (h1 === 0x0a) {
        i += 1;
        continue;
      }
      const hex = h1 !== undefined && h2 !== undefined ? String.fromCharCode(h1, h2) : '';
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        out[o++] = parseInt(hex, 16);
        i += 2;
        continue;
      }
    }
    out[o++] = c;
  }
  return out.subarray(0, o);
}

export function decodeTransfer(body: Buffer, encoding: string): Buffer {
  switch (encoding) {
    case '7bit':
    case '8bit':
    case 'binary':
    case '':
      return body;
    case 'base64':
      return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    default:
      throw new ImapNoError('UNKNOWN-CTE', `Unknown content-transfer-encoding ${encoding}`);
  }
}
