/**
 * Protected headers (standards §2): writing Thunderbird's legacy `protected-headers="v1"` payload
 * and reading both that and RFC 9788's `hp="cipher"|"clear"` form from a decrypted (or signed)
 * MIME entity, including removal of legacy display parts/elements.
 */
import { mediaType } from '../mime/params.ts';
import type { RawHeader } from '../mime/entity.ts';
import { parseEntity, splitParts } from '../mime/entity.ts';
import { buildMultipartBody, foldField, freshBoundary, multipartChunks, rawField } from '../mime/build.ts';
import { decodeTransfer, encodeBase64Lines, encodeQuotedPrintable } from '../mime/transfer-encoding.ts';

/** Header fields copied into the protected payload, in Thunderbird's order (Subject first). */
export const PROTECTED_FIELDS = [
  'subject',
  'from',
  'reply-to',
  'to',
  'cc',
  'newsgroups',
  'followup-to',
  'date',
  'message-id',
  'references',
  'in-reply-to',
] as const;

/**
 * The protected fields an unauthenticated payload (encrypted but unsigned, or not validly signed)
 * may still restore: none of them names a person. From, Sender, To, Cc, Reply-To and the rest stay
 * as the outer header has them (the outer From is what the provider's DKIM/DMARC checks saw).
 */
const UNAUTHENTICATED_SHOWN = new Set(['subject', 'date', 'message-id', 'in-reply-to', 'references']);

/**
 * Which protected fields the served message shows (README "What your mail client is shown"):
 * all of them when a valid signature covers them and their From agrees with the outer one
 * (`authenticated`), else only UNAUTHENTICATED_SHOWN, and those only from an encrypted payload.
 */
export function shownInnerHeaders(
  fields: readonly HeaderField[],
  trust: 'authenticated' | 'encrypted' | 'none',
): HeaderField[] {
  if (trust === 'authenticated') return [...fields];
  if (trust === 'none') return [];
  return fields.filter((h) => UNAUTHENTICATED_SHOWN.has(h.name.toLowerCase()));
}

/** The obscured outer Subject Thunderbird writes. */
export const OBSCURED_SUBJECT = '...';

export interface HeaderField {
  name: string;
  /** unfolded value as it appears in the message (RFC 2047 words not decoded) */
  value: string;
}

/**
 * The inner payload: `multipart/mixed; protected-headers="v1"` carrying the protected fields
 * (copied verbatim from `fields`), the Autocrypt-Gossip lines, and the original entity as its
 * only child. Only what is passed in is included (the caller never passes Bcc).
 */
export function buildProtectedPayload(
  entity: Buffer,
  fields: RawHeader[],
  gossip: readonly string[],
): Buffer {
  const boundary = freshBoundary(entity);
  const head: Buffer[] = [
    Buffer.from(`Content-Type: multipart/mixed; boundary="${boundary}";\r\n protected-headers="v1"\r\n`),
  ];
  for (const name of PROTECTED_FIELDS) for (const h of fields) if (h.lname === name) head.push(rawField(h));
  for (const g of gossip) head.push(Buffer.from(gossipField(g)));
  head.push(Buffer.from('\r\n'));
  return Buffer.concat([...head, ...multipartChunks(boundary, [entity])]);
}

/** Autocrypt-Gossip with its keydata folded into 76-character lines (whitespace in keydata is ignored by readers). */
function gossipField(value: string): string {
  const m = /^(.*?keydata=)\s*([A-Za-z0-9+/=\s]+)$/s.exec(value.trim());
  if (!m) return foldField('Autocrypt-Gossip', value);
  const data = m[2]!.replace(/\s+/g, '');
  const lines: string[] = [];
  for (let i = 0; i < data.length; i += 76) lines.push(' ' + data.slice(i, i + 76));
  return foldField('Autocrypt-Gossip', m[1]!).replace(/\r\n$/, '') + '\r\n' + lines.join('\r\n') + '\r\n';
}

export interface ProtectedRead {
  /** 'v1' (legacy), 'cipher'/'clear' (RFC 9788 hp=), or null when the root carries no marking */
  scheme: 'v1' | 'cipher' | 'clear' | null;
  /** protected header fields (everything on the root except Content-*, MIME-Version, HP-Outer, gossip) */
  fields: HeaderField[];
  /** Autocrypt-Gossip values found on the root */
  gossip: string[];
  /** the entity with the protected fields and legacy display parts/elements removed, CRLF */
  entity: Buffer;
}

const DROP_FROM_ENTITY = /^(content-|mime-version$)/;

/** Read protected headers from the root of a (CRLF) cryptographic payload and clean it. */
export function readProtectedHeaders(entity: Buffer): ProtectedRead {
  const ent = parseEntity(entity);
  const ct = mediaType(ent.headers.find((h) => h.lname === 'content-type')?.value);
  const hp = ct.params['hp']?.toLowerCase();
  const scheme =
    hp === 'cipher' || hp === 'clear'
      ? hp
      : ct.params['protected-headers']?.toLowerCase() === 'v1'
        ? 'v1'
        : null;
  const fields: HeaderField[] = [];
  const gossip: string[] = [];
  for (const h of ent.headers) {
    if (h.lname === 'autocrypt-gossip') gossip.push(h.value);
    else if (
      scheme &&
      !DROP_FROM_ENTITY.test(h.lname) &&
      h.lname !== 'hp-outer' &&
      !h.lname.startsWith('x-lockbridge-')
    )
      fields.push({ name: h.name, value: h.value });
  }
  // Keep only the content headers on the entity; drop the marking parameters.
  const contentHeaders = ent.headers
    .filter((h) => DROP_FROM_ENTITY.test(h.lname) && h.lname !== 'mime-version')
    .map((h) => (h.lname === 'content-type' ? stripMarkings(h) : rawField(h)));
  let body: Buffer = ent.body;
  if (scheme) body = removeLegacyDisplay(ct.mime, ct.params, body, ent.headers);
  const cleaned = Buffer.concat([...contentHeaders, Buffer.from('\r\n'), body]);
  return { scheme, fields, gossip, entity: scheme ? cleaned : entity };
}

function stripMarkings(h: RawHeader): Buffer {
  const v = rawField(h)
    .toString('utf8')
    .replace(/;\s*(protected-headers|hp|hp-legacy-display)\s*=\s*("[^"]*"|[^;\s]*)/gi, '');
  return Buffer.from(v, 'utf8');
}

/** Remove the text/rfc822-headers legacy part and RFC 9788 legacy display elements. */
function removeLegacyDisplay(
  mime: string,
  params: Record<string, string>,
  body: Buffer,
  headers: RawHeader[],
): Buffer {
  if (mime.startsWith('multipart/') && params['boundary']) {
    const split = splitParts(body, params['boundary']);
    let changed = false;
    const parts: Buffer[] = [];
    for (const r of split.parts) {
      const part = body.subarray(r.start, r.end);
      const pe = parseEntity(part);
      const pct = mediaType(pe.headers.find((h) => h.lname === 'content-type')?.value);
      if (pct.mime === 'text/rfc822-headers' && pct.params['protected-headers']) {
        changed = true;
        continue;
      }
      const cleaned = cleanLeaf(part);
      if (cleaned !== part) changed = true;
      parts.push(cleaned);
    }
    return changed ? buildMultipartBody(params['boundary'], parts) : body;
  }
  if (params['hp-legacy-display'] === '1') {
    const cte = headers.find((h) => h.lname === 'content-transfer-encoding')?.value;
    return stripLegacyElement(mime, body, cte);
  }
  return body;
}

/** A direct child (or alternative grandchild) carrying hp-legacy-display="1". */
function cleanLeaf(part: Buffer): Buffer {
  const pe = parseEntity(part);
  const ctH = pe.headers.find((h) => h.lname === 'content-type');
  const pct = mediaType(ctH?.value);
  if (pct.mime === 'multipart/alternative' && pct.params['boundary']) {
    const split = splitParts(pe.body, pct.params['boundary']);
    const kids = split.parts.map((r) => pe.body.subarray(r.start, r.end));
    const cleaned = kids.map(cleanLeaf);
    if (cleaned.every((c, i) => c === kids[i])) return part;
    return Buffer.concat([
      part.subarray(0, pe.bodyStart),
      buildMultipartBody(pct.params['boundary'], cleaned),
    ]);
  }
  if (pct.params['hp-legacy-display'] !== '1') return part;
  const cte = pe.headers.find((h) => h.lname === 'content-transfer-encoding')?.value;
  const newBody = stripLegacyElement(pct.mime, pe.body, cte);
  const heads = pe.headers.map((h) => (h.lname === 'content-type' ? stripMarkings(h) : rawField(h)));
  return Buffer.concat([...heads, Buffer.from('\r\n'), newBody]);
}

function stripLegacyElement(mime: string, body: Buffer, cte: string | undefined): Buffer {
  const enc = (cte ?? '7bit').trim().toLowerCase();
  const text = decodeTransfer(body, enc).toString('utf8');
  let out = text;
  if (mime === 'text/plain') {
    // header lines, then a blank line
    const m = /^(?:[A-Za-z][A-Za-z0-9-]*:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*)+\r?\n/.exec(text);
    if (m) out = text.slice(m[0].length);
  } else if (mime === 'text/html') {
    out = text.replace(/<div\s+class=["']?header-protection-legacy-display["']?[^>]*>[\s\S]*?<\/div>/i, '');
  }
  if (out === text) return body;
  const bytes = Buffer.from(out, 'utf8');
  if (enc === 'base64') return encodeBase64Lines(bytes);
  if (enc === 'quoted-printable') return encodeQuotedPrintable(bytes);
  return bytes;
}
