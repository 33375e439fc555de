/**
 * The message the bridge serves to the local mail client (CONTRACT "Mail as the client sees
 * it"): outer transport headers + the protected inner headers it may show (decrypt.ts decides:
 * `shownHeaders`, README "What your mail client is shown") + X-Lockbridge-* status headers + the
 * decrypted entity. Incoming X-Lockbridge-* headers are always removed first (§5.16).
 *
 *   X-Lockbridge-Encryption: encrypted | none | failed
 *   X-Lockbridge-Reason: <text>                    (failed, or a note such as a nested part left encrypted)
 *   X-Lockbridge-Signature: valid; signer=<FPR>    (invalid / unknown-key; keyid=<ID> / none)
 *     ...; from-mismatch=yes                      (no User ID of the signer's key is the From address shown)
 *     ...; protected-from-mismatch=<addr>         (the signed protected From <addr> is not the outer
 *                                                  From; the outer one is shown)
 *     S/MIME: signer=<SHA-256 fingerprint of the signer certificate>, keyid=<the same> for an
 *     untrusted certificate; then `; trust=ca|known|first-contact` (a path to a trust anchor, a
 *     certificate the user holds for the sender, the first certificate seen for the From address)
 *     and `; expires=YYYY-MM-DD`, or `; expired=YYYY-MM-DD` (the signature is then invalid); a
 *     certificate revoked by a CRL at hand (in the message, or imported) adds `; revoked=YYYY-MM-DD`
 *     before it (invalid too)
 *   X-Lockbridge-Standard: openpgp | smime         (absent for plain mail)
 */
import type { DecryptResult } from './decrypt.ts';
import { PROTECTED_FIELDS } from './protected-headers.ts';
import { foldField, rawField } from '../mime/build.ts';
import { parseEntity } from '../mime/entity.ts';
import { normalizeCrlf } from '../mime/crlf.ts';

export function statusHeaders(result: DecryptResult): string {
  let out = `X-Lockbridge-Encryption: ${result.status}\r\n`;
  if (result.reason) out += `X-Lockbridge-Reason: ${oneLine(result.reason)}\r\n`;
  let sig: string = result.signature;
  if (result.signerFingerprint && (result.signature === 'valid' || result.signature === 'invalid'))
    sig += `; signer=${result.signerFingerprint}`;
  else if (result.signature === 'unknown-key' && result.signerKeyIds.length)
    sig += `; keyid=${result.signerKeyIds.join(',')}`;
  if (result.signerMismatch) sig += '; from-mismatch=yes';
  if (result.protectedFromMismatch)
    sig += `; protected-from-mismatch=${result.protectedFromMismatch.replace(/[^\x21-\x7e]|[;"\\]/g, '?')}`;
  const cert = result.smime;
  if (cert && result.signature !== 'none') {
    if (cert.trust && result.signature === 'valid') sig += `; trust=${cert.trust}`;
    if (cert.revoked !== undefined) sig += `; revoked=${new Date(cert.revoked).toISOString().slice(0, 10)}`;
    if (cert.notAfter !== undefined)
      sig += `; ${cert.expired ? 'expired' : 'expires'}=${new Date(cert.notAfter).toISOString().slice(0, 10)}`;
  }
  out += `X-Lockbridge-Signature: ${sig}\r\n`;
  if (result.standard) out += `X-Lockbridge-Standard: ${result.standard}\r\n`;
  return out;
}

function oneLine(s: string): string {
  return s
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 200);
}

/** Build the served bytes for `raw` given its decryption result (CRLF output). */
export function buildServedMessage(raw: Buffer, result: DecryptResult): Buffer {
  const msg = normalizeCrlf(raw);
  const ent = parseEntity(msg);
  const fields = ent.headers.filter((h) => !h.lname.startsWith('x-lockbridge-'));
  const shown = result.shownHeaders;
  const innerNames = new Set(shown.map((h) => h.name.toLowerCase()));
  // RFC 9788 hp=: authenticated protected headers stand for the whole protected set
  const replaced =
    result.headersAuthenticated &&
    (result.headerProtection === 'cipher' || result.headerProtection === 'clear')
      ? new Set<string>([...PROTECTED_FIELDS, ...innerNames])
      : innerNames;
  const inner = shown
    .filter((h) => !h.name.toLowerCase().startsWith('x-lockbridge-'))
    .map((h) => foldField(h.name, h.value))
    .join('');
  const status = statusHeaders(result);

  if (result.status === 'encrypted' || result.unwrapped) {
    const kept = fields.filter(
      (h) => !h.lname.startsWith('content-') && h.lname !== 'mime-version' && !replaced.has(h.lname),
    );
    // Only the entity's content headers travel (an opaque S/MIME signature's content is served
    // unwrapped, like a decrypted entity); anything else inside it was not marked protected.
    const entity = parseEntity(normalizeCrlf(result.mime));
    const content = entity.headers.filter((h) => h.lname.startsWith('content-'));
    return Buffer.concat([
      ...kept.map(rawField),
      Buffer.from(inner + status + 'MIME-Version: 1.0\r\n'),
      ...content.map(rawField),
      Buffer.from('\r\n'),
      entity.body,
    ]);
  }
  // none / failed: the message as it came (a failed one keeps its ciphertext; nothing decrypted
  // is ever added); a validly signed message's protected inner headers replace the outer ones.
  const kept = fields.filter((h) => !replaced.has(h.lname));
  return Buffer.concat([...kept.map(rawField), Buffer.from(inner + status + '\r\n'), ent.body]);
}
