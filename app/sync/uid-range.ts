/** Compact IMAP UID sets: [1,2,3,7,9,10] → "1:3,7,9:10". */
export function toUidSet(uids: readonly number[]): string {
  const s = [...uids].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < s.length) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    parts.push(i === j ? String(s[i]) : `${s[i]}:${s[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Splits (uid, size) pairs into batches of at most `maxCount` messages and `maxBytes` bytes. */
export function batchBySize<T extends { uid: number; size: number }>(
  items: readonly T[],
  maxCount: number,
  maxBytes: number,
): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const it of items) {
    if (cur.length && (cur.length >= maxCount || bytes + it.size > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(it);
    bytes += it.size;
  }
  if (cur.length) out.push(cur);
  return out;
}
