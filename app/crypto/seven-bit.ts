/**
 * Make a MIME entity safe to sign (RFC 3156 §3, standards 1.10–1.12): every leaf whose body has
 * 8-bit bytes, over-long lines, trailing whitespace, or a line starting with "From " (or ".") is
 * re-encoded as quoted-printable; base64 leaves are already safe. Multiparts and message/rfc822
 * are walked recursively; untouched entities keep their exact bytes. Input and output are CRLF.
 */
import { mediaType } from '../mime/params.ts';
import { parseEntity, splitParts } from '../mime/entity.ts';
import { buildMultipartBody, rawField } from '../mime/build.ts';
import { decodeTransfer, encodeQuotedPrintable } from '../mime/transfer-encoding.ts';

export function makeSevenBitSafe(entity: Buffer): Buffer {
  const ent = parseEntity(entity);
  const ctH = ent.headers.find((h) => h.lname === 'content-type');
  const ct = mediaType(ctH?.value);
  const cteH = ent.headers.find((h) => h.lname === 'content-transfer-encoding');
  const cte = (cteH?.value ?? '7bit').toLowerCase();

  if (ct.mime.startsWith('multipart/') && ct.params['boundary']) {
    const split = splitParts(ent.body, ct.params['boundary']);
    const parts = split.parts.map((r) => ent.body.subarray(r.start, r.end));
    const safe = parts.map(makeSevenBitSafe);
    if (safe.every((p, i) => p === parts[i]) && cte !== '8bit' && cte !== 'binary' && !unsafe(ent.body))
      return entity;
    const heads = ent.headers.filter((h) => h.lname !== 'content-transfer-encoding').map(rawField);
    return Buffer.concat([...heads, Buffer.from('\r\n'), buildMultipartBody(ct.params['boundary'], safe)]);
  }
  if (ct.mime === 'message/rfc822' && cte !== 'base64' && cte !== 'quoted-printable') {
    const inner = makeSevenBitSafe(ent.body);
    if (inner === ent.body && cte !== '8bit' && cte !== 'binary') return entity;
    const heads = ent.headers.filter((h) => h.lname !== 'content-transfer-encoding').map(rawField);
    return Buffer.concat([...heads, Buffer.from('Content-Transfer-Encoding: 7bit\r\n\r\n'), inner]);
  }
  if (cte === 'base64') return entity;
  if (!unsafe(ent.body) && cte !== '8bit' && cte !== 'binary') return entity;
  const decoded = decodeTransfer(ent.body, cte);
  const heads = ent.headers.filter((h) => h.lname !== 'content-transfer-encoding').map(rawField);
  return Buffer.concat([
    ...heads,
    Buffer.from('Content-Transfer-Encoding: quoted-printable\r\n\r\n'),
    encodeQuotedPrintable(decoded),
  ]);
}

/** Does this (encoded) body need re-encoding to survive transport unchanged? */
function unsafe(body: Buffer): boolean {
  let lineStart = 0;
  for (let i = 0; i <= body.length; i++) {
    const c = i < body.length ? body[i]! : 0x0a;
    if (c >= 0x80 || c === 0) return true;
    if (c !== 0x0a) continue;
    const end = i > lineStart && body[i - 1] === 0x0d ? i - 1 : i;
    if (end - lineStart > 998) return true;
    if (end > lineStart) {
      const last = body[end - 1];
      if (last === 0x20 || last === 0x09) return true;
      if (body[lineStart] === 0x46 && body.toString('latin1', lineStart, lineStart + 5) === 'From ')
        return true;
      if (body[lineStart] === 0x2e && end - lineStart === 1) return true;
    }
    lineStart = i + 1;
  }
  return false;
}
