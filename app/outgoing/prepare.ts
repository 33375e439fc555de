/**
 * The base message every upstream copy is built from (parse once): the client's message with the
 * headers that must never leave removed (Bcc, X-Lockbridge-*, Autocrypt-Draft-State, a client's
 * own Autocrypt header), a Message-ID and Date ensured (all copies share them), our Autocrypt
 * header added, and the sender's public key attached when asked.
 */
import { randomBytes } from 'node:crypto';
import { splitMessage } from '../crypto/message-parts.ts';
import { buildMultipartBody, foldField, freshBoundary, rawField } from '../mime/build.ts';
import type { RawHeader } from '../mime/entity.ts';
import { formatRfc5322Date } from '../mime/date.ts';

/** Fields that concern only the local copy (status, upload token, draft state): no copy that leaves has them. */
const LOCAL_ONLY = /^(x-lockbridge-.*|autocrypt-draft-state)$/;

/** Whether a field (lowercase name) is local only; the Sent/Drafts upload (./upload.ts) drops these too. */
export function isLocalOnlyField(lowerName: string): boolean {
  return LOCAL_ONLY.test(lowerName);
}

/** What a recipient never sees: Bcc, the client's own Autocrypt fields, a client's private fields. */
const NOT_SENT = /^(bcc|resent-bcc|autocrypt|autocrypt-gossip|x-mozilla-.*)$/;

export interface PrepareOptions {
  /** The complete `Autocrypt: ...` field (folded, no final CRLF), or null. */
  autocryptField?: string | null;
  /** Attach the sender's public key (armored) as application/pgp-keys. */
  attachKey?: { armored: string; fingerprint: string } | null;
  /** Domain for a generated Message-ID. */
  messageIdDomain: string;
  /** Use this Message-ID when the message has none (a second preparation of the same message). */
  messageId?: string;
  now?: Date;
}

export interface PreparedMessage {
  /** transport headers + MIME-Version + content entity, CRLF */
  base: Buffer;
  messageId: string;
  /** raw (RFC 2047-encoded) Subject, '' when absent */
  subject: string;
  /** raw values of To and Cc headers */
  toCc: string[];
}

export function prepareMessage(raw: Buffer, opts: PrepareOptions): PreparedMessage {
  const { transport, entity } = splitMessage(raw);
  const kept: Buffer[] = [];
  let messageId = '';
  let hasDate = false;
  const toCc: string[] = [];
  let subject = '';
  for (const h of transport) {
    if (isLocalOnlyField(h.lname) || NOT_SENT.test(h.lname)) continue;
    if (h.lname === 'message-id') messageId = h.value.trim();
    if (h.lname === 'date') hasDate = true;
    if (h.lname === 'subject') subject = h.value;
    if (h.lname === 'to' || h.lname === 'cc') toCc.push(h.value);
    kept.push(rawField(h as RawHeader));
  }
  if (!messageId) {
    messageId = opts.messageId ?? `<${randomBytes(16).toString('hex')}@${opts.messageIdDomain}>`;
    kept.push(Buffer.from(`Message-ID: ${messageId}\r\n`));
  }
  if (!hasDate) kept.push(Buffer.from(`Date: ${formatRfc5322Date(opts.now ?? new Date())}\r\n`));
  if (opts.autocryptField) kept.push(Buffer.from(opts.autocryptField + '\r\n'));
  const content = opts.attachKey ? withKeyAttachment(entity, opts.attachKey) : entity;
  const base = Buffer.concat([...kept, Buffer.from('MIME-Version: 1.0\r\n'), content]);
  return { base, messageId, subject, toCc };
}

function withKeyAttachment(entity: Buffer, key: { armored: string; fingerprint: string }): Buffer {
  const name = `OpenPGP_0x${key.fingerprint.slice(-16)}.asc`;
  const armored = Buffer.from(key.armored.replace(/\r?\n/g, '\r\n').replace(/(\r\n)?$/, '\r\n'));
  const keyPart = Buffer.concat([
    Buffer.from(
      `Content-Type: application/pgp-keys; name="${name}"\r\n` +
        `Content-Disposition: attachment; filename="${name}"\r\n` +
        'Content-Description: OpenPGP public key\r\n' +
        'Content-Transfer-Encoding: 7bit\r\n\r\n',
    ),
    armored,
  ]);
  const boundary = freshBoundary(entity, keyPart);
  return Buffer.concat([
    Buffer.from(foldField('Content-Type', `multipart/mixed; boundary="${boundary}"`) + '\r\n'),
    buildMultipartBody(boundary, [entity, keyPart]),
  ]);
}
