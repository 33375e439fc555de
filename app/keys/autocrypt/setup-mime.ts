/**
 * Minimal MIME reading/writing for Autocrypt Setup Messages: top-level headers, one multipart
 * level, base64 / quoted-printable bodies. Enough for ASMs from Lockbridge, Delta Chat, K-9/
 * OpenKeychain, Enigmail and the spec's example.
 */

export interface SimplePart {
  headers: Map<string, string>;
  body: string;
}

function splitHeadBody(text: string): { head: string; body: string } {
  const m = /\r?\n\r?\n/.exec(text);
  if (!m) return { head: text, body: '' };
  return { head: text.slice(0, m.index), body: text.slice(m.index + m[0].length) };
}

export function parseHeaders(head: string): Map<string, string> {
  const out = new Map<string, string>();
  const unfolded = head.replace(/\r?\n(?=[ \t])/g, '');
  for (const line of unfolded.split(/\r?\n/)) {
    const c = line.indexOf(':');
    if (c <= 0) continue;
    const name = line.slice(0, c).trim().toLowerCase();
    if (!out.has(name)) out.set(name, line.slice(c + 1).trim());
  }
  return out;
}

function param(value: string, name: string): string | null {
  const re = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i');
  const m = re.exec(value);
  return m ? (m[1] ?? m[2] ?? null) : null;
}

export function decodeBody(body: string, cte: string | undefined): string {
  const enc = (cte ?? '7bit').toLowerCase().trim();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (enc === 'quoted-printable') {
    const soft = body.replace(/=\r?\n/g, '');
    return Buffer.from(
      soft.replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    ).toString('utf8');
  }
  return body;
}

/** Top-level headers and the leaf parts of a (possibly) multipart message. */
export function readSimpleMime(raw: string): { headers: Map<string, string>; parts: SimplePart[] } {
  const { head, body } = splitHeadBody(raw);
  const headers = parseHeaders(head);
  const ct = headers.get('content-type') ?? 'text/plain';
  const boundary = /^multipart\//i.test(ct) ? param(ct, 'boundary') : null;
  if (!boundary)
    return {
      headers,
      parts: [{ headers, body: decodeBody(body, headers.get('content-transfer-encoding')) }],
    };
  const parts: SimplePart[] = [];
  const chunks = body.split(
    new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:--)?[ \\t]*\\r?\\n?`),
  );
  for (const chunk of chunks.slice(1)) {
    if (chunk.trim() === '') continue;
    const p = splitHeadBody(chunk);
    const h = parseHeaders(p.head);
    parts.push({ headers: h, body: decodeBody(p.body, h.get('content-transfer-encoding')) });
  }
  return { headers, parts };
}
