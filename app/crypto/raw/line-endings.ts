/** Line-ending canonicalization: bare LF → CRLF (bare CR is left alone). Pure. */

export function toCRLF(buf: Buffer): Buffer {
  let bare = 0;
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1))
    if (i === 0 || buf[i - 1] !== 0x0d) bare++;
  if (bare === 0) return buf;
  const out = Buffer.allocUnsafe(buf.length + bare);
  let o = 0;
  let s = 0;
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) {
    if (i !== 0 && buf[i - 1] === 0x0d) continue;
    o += buf.copy(out, o, s, i);
    out[o++] = 0x0d;
    out[o++] = 0x0a;
    s = i + 1;
  }
  o += buf.copy(out, o, s);
  return out.subarray(0, o);
}
