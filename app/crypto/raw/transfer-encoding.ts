/**
 * Content-Transfer-Encoding decode (base64, quoted-printable) and the quoted-printable encoder
 * used to make signed content 7-bit safe (RFC 3156 §3: 8-bit lines, trailing whitespace and a
 * leading "From " are encoded).
 */

export function decodeTransfer(body: Buffer, encoding: string | undefined): Buffer {
  const enc = (encoding ?? '7bit').trim().toLowerCase();
  if (enc === 'base64') return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (enc === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}

export function decodeQuotedPrintable(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(body.length);
  let o = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== 0x3d) {
      out[o++] = c;
      continue;
    }
    // soft line break: '=' [whitespace] CRLF|LF
    let j = i + 1;
    while (body[j] === 0x20 || body[j] === 0x09) j++;
    if (body[j] === 0x0a) {
      i = j;
      continue;
    }
    if (body[j] === 0x0d && body[j + 1] === 0x0a) {
      i = j + 1;
      continue;
    }
    if (j >= body.length) break;
    const hex = body.toString('latin1', i + 1, i + 3);
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      out[o++] = parseInt(hex, 16);
      i += 2;
    } else out[o++] = c;
  }
  return out.subarray(0, o);
}

const HEX = '0123456789ABCDEF';

/**
 * Quoted-printable (RFC 2045 §6.7) with the signing extras: a leading "From " becomes "=46rom ",
 * a leading "." becomes "=2E", trailing space/tab is encoded. Lines end in CRLF; input line
 * breaks (CRLF or LF) are kept as hard breaks.
 */
export function encodeQuotedPrintable(data: Buffer): Buffer {
  const lines = splitLines(data);
  const out: string[] = [];
  for (const line of lines) {
    let enc = '';
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      const last = i === line.length - 1;
      let piece: string;
      if (i === 0 && (c === 0x2e || (c === 0x46 && line.toString('latin1', 0, 5) === 'From ')))
        piece = '=' + HEX[c >> 4] + HEX[c & 15];
      else if ((c >= 33 && c <= 126 && c !== 0x3d) || ((c === 0x20 || c === 0x09) && !last))
        piece = String.fromCharCode(c);
      else piece = '=' + HEX[c >> 4] + HEX[c & 15];
      if (enc.length + piece.length > 75) {
        out.push(enc + '=');
        enc = '';
      }
      enc += piece;
    }
    out.push(enc);
  }
  return Buffer.from(out.join('\r\n'), 'latin1');
}

function splitLines(data: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nl = data.indexOf(0x0a, start);
    if (nl < 0) {
      lines.push(data.subarray(start));
      return lines;
    }
    const end = nl > start && data[nl - 1] === 0x0d ? nl - 1 : nl;
    lines.push(data.subarray(start, end));
    start = nl + 1;
  }
}

/** base64 with 76-character lines, CRLF. */
export function encodeBase64Lines(data: Buffer): Buffer {
  const b64 = data.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return Buffer.from(lines.join('\r\n') + (lines.length ? '\r\n' : ''), 'latin1');
}
