/**
 * Content-Type / Content-Disposition value parsing (RFC 2045 §5.1, RFC 2231 continuations and
 * charset-tagged values). Parameter names come back lowercase; values unquoted.
 */

export interface ContentType {
  /** lowercase 'type/subtype' ('text/plain' when missing or invalid, RFC 2045 §5.2) */
  mime: string;
  params: Record<string, string>;
}

export function parseContentType(value: string | undefined): ContentType {
  if (!value) return { mime: 'text/plain', params: { charset: 'us-ascii' } };
  const semi = value.indexOf(';');
  const head = (semi < 0 ? value : value.slice(0, semi))
    .replace(/\([^)]*\)/g, '')
    .trim()
    .toLowerCase();
  const mime = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(head) ? head : 'text/plain';
  return { mime, params: semi < 0 ? {} : parseParams(value.slice(semi + 1)) };
}

/** Parse `; a=b; c="d e"` into a lowercase-keyed map (RFC 2231 pieces joined). */
export function parseParams(text: string): Record<string, string> {
  const params: Record<string, string> = {};
  const pieces: Record<string, { idx: number; v: string; enc: boolean }[]> = {};
  const re = /\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))\s*;?/gy;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) {
      const skip = text.indexOf(';', pos);
      if (skip < 0) break;
      pos = skip + 1;
      continue;
    }
    pos = re.lastIndex;
    const key = m[1]!.toLowerCase();
    const v = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    const cont = /^(.+?)\*(\d+)?(\*)?$/.exec(key);
    if (cont) {
      const base = cont[1]!;
      (pieces[base] ??= []).push({
        idx: cont[2] ? Number(cont[2]) : 0,
        v,
        enc: Boolean(cont[3]) || !cont[2],
      });
    } else params[key] = v;
  }
  for (const [base, list] of Object.entries(pieces)) {
    list.sort((a, b) => a.idx - b.idx);
    let charset = 'utf-8';
    const joined = list
      .map((p, i) => {
        let v = p.v;
        if (p.enc) {
          if (i === 0) {
            const m = /^([^']*)'[^']*'(.*)$/.exec(v);
            if (m) {
              charset = m[1] || charset;
              v = m[2]!;
            }
          }
          return percentDecode(v, charset);
        }
        return v;
      })
      .join('');
    if (params[base] === undefined) params[base] = joined;
  }
  return params;
}

function percentDecode(v: string, charset: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '%' && /^[0-9a-fA-F]{2}$/.test(v.slice(i + 1, i + 3))) {
      bytes.push(parseInt(v.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(v.charCodeAt(i) & 0xff);
  }
  try {
    return new TextDecoder(charset).decode(Uint8Array.from(bytes));
  } catch {
    return Buffer.from(bytes).toString('latin1');
  }
}
