/** Message-ID comparison key: angle brackets, whitespace and case ignored; empty → null. */
export function messageIdKey(v: string | null | undefined): string | null {
  if (!v) return null;
  const t = v.trim().replace(/^<+/, '').replace(/>+$/, '').trim().toLowerCase();
  return t || null;
}
