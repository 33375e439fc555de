/**
 * The Cleartext Signature Framework (RFC 9580 §7) parsed from BYTES, so a text in any charset is
 * verified over exactly the bytes that were signed (not re-encoded as UTF-8): dash-escapes undone,
 * trailing spaces/tabs removed from every line, lines joined with CRLF, and the line break before
 * the signature armor excluded.
 */

export interface CleartextParts {
  /** the signed text, canonical (CRLF, no trailing whitespace) */
  signed: Buffer;
  /** the armored signature block */
  signature: string;
}

const BEGIN = '-----BEGIN PGP SIGNED MESSAGE-----';
const SIG = '-----BEGIN PGP SIGNATURE-----';

export function parseCleartext(bytes: Buffer): CleartextParts | null {
  const lines = bytes.toString('latin1').split(/\r?\n/);
  let i = lines.findIndex((l) => l.trimEnd() === BEGIN);
  if (i < 0) return null;
  i++;
  while (i < lines.length && lines[i]!.trim() !== '') i++; // armor headers (Hash: ...)
  i++;
  const text: string[] = [];
  for (; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.trimEnd() === SIG) break;
    text.push((l.startsWith('- ') ? l.slice(2) : l).replace(/[ \t]+$/, ''));
  }
  if (i >= lines.length) return null;
  const signature = lines.slice(i).join('\n').trim();
  return { signed: Buffer.from(text.join('\r\n'), 'latin1'), signature };
}
