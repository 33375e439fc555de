/**
 * Full-text search: a contentless FTS5 trigram index narrows the candidates, each is then checked
 * exactly against the text re-derived from its raw bytes; messages still queued for indexing
 * (`fts_queue`) are checked directly, so results are always complete.
 */
import { analyzeMessage } from '../../../mime/analyze.ts';
import type { MessageAnalysis } from '../../../mime/types.ts';
import type { StoreDb } from '../../sql.ts';
import type { MessageBlobs } from './blobs.ts';

export type TextScope = 'text' | 'body' | 'headers';

export class MessageFullText {
  readonly #s: StoreDb;
  readonly #blobs: MessageBlobs;

  constructor(s: StoreDb, blobs: MessageBlobs) {
    this.#s = s;
    this.#blobs = blobs;
  }

  /**
   * Case-insensitive substring search (IMAP SEARCH TEXT / BODY and header text): the trigram index
   * narrows the candidates, then each is checked exactly; not-yet-indexed messages are scanned.
   * `uidRange` (inclusive) bounds the work to a slice of the mailbox. Returns matching UIDs in
   * ascending order.
   */
  searchText(
    mailboxId: number,
    needle: string,
    scope: TextScope,
    uidRange: readonly [number, number],
  ): number[] {
    const [lo, hi] = uidRange;
    const want = needle.toLowerCase();
    const hits = new Set<number>();
    const check = (uid: number, blobId: number) => {
      if (want === '') return void hits.add(uid);
      const doc = this.#ftsDoc(blobId);
      const hay =
        scope === 'body' ? doc.text : scope === 'headers' ? doc.headers : doc.headers + '\n' + doc.text;
      if (hay.toLowerCase().includes(want)) hits.add(uid);
    };
    type Candidate = { uid: number; blob_id: number };
    const grams = trigrams(want);
    if (grams.length === 0) {
      // too short for trigrams: check every message
      const all = this.#s
        .prepare<Candidate>(
          'SELECT uid, blob_id FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid',
        )
        .all(mailboxId, lo, hi);
      for (const r of all) check(r.uid, r.blob_id);
      return [...hits];
    }
    const query = grams.map((g) => `"${g.replace(/"/g, '""')}"`).join(' AND ');
    const candidates = this.#s
      .prepare<Candidate>(
        `SELECT m.uid, m.blob_id FROM message_fts f JOIN messages m ON m.blob_id = f.rowid
         WHERE message_fts MATCH ? AND m.mailbox_id = ? AND m.uid BETWEEN ? AND ?`,
      )
      .all(query, mailboxId, lo, hi);
    const queued = this.#s
      .prepare<Candidate>(
        'SELECT m.uid, m.blob_id FROM fts_queue q JOIN messages m ON m.blob_id = q.blob_id WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ?',
      )
      .all(mailboxId, lo, hi);
    for (const r of candidates) check(r.uid, r.blob_id);
    for (const r of queued) check(r.uid, r.blob_id);
    return [...hits].sort((a, b) => a - b);
  }

  /** Messages waiting to be added to the full-text index. */
  ftsBacklog(): number {
    return this.#s.prepare<{ n: number }>('SELECT count(*) AS n FROM fts_queue').get()!.n;
  }

  /**
   * Moves up to `limit` queued messages into the FTS index (one transaction); returns how many.
   * With `budgetMs`, stops after the message that used the budget up (big messages one by one).
   */
  indexBatch(limit: number, budgetMs: number): number {
    const started = performance.now();
    return this.#s.write(() => {
      const ids = this.#s
        .prepare<number>('SELECT blob_id FROM fts_queue ORDER BY blob_id LIMIT ?')
        .pluck()
        .all(limit) as unknown as number[];
      const ins = this.#s.prepare('INSERT INTO message_fts (rowid, headers, text) VALUES (?, ?, ?)');
      const del = this.#s.prepare('DELETE FROM fts_queue WHERE blob_id = ?');
      let n = 0;
      for (const id of ids) {
        const doc = this.#ftsDoc(id);
        ins.run(id, doc.headers, doc.text);
        del.run(id);
        n++;
        if (performance.now() - started >= budgetMs) break;
      }
      return n;
    });
  }

  /** The full-text document of a blob, re-derived from its raw bytes. */
  #ftsDoc(blobId: number): { headers: string; text: string } {
    const raw = this.#blobs.raw(blobId);
    let a: MessageAnalysis;
    try {
      a = analyzeMessage(raw);
    } catch {
      return { headers: headerBlock(raw), text: '' };
    }
    return { headers: ftsHeaders(a, raw), text: a.text };
  }
}

/** The header block of a raw message (up to the first empty line), at most 64 KiB, for FTS. */
function headerBlock(raw: Buffer): string {
  let end = raw.indexOf('\r\n\r\n');
  if (end < 0) end = raw.indexOf('\n\n');
  if (end < 0) end = raw.length;
  return raw.subarray(0, Math.min(end, 65536)).toString('latin1');
}

function ftsHeaders(a: MessageAnalysis, raw: Buffer): string {
  const h = a.headers;
  return [h.subject, h.from, h.to, h.cc, h.bcc, headerBlock(raw)].join('\n');
}

/** The distinct trigrams of a (lowercased) needle, by code point, as the trigram tokenizer makes them. */
function trigrams(s: string): string[] {
  const cps = [...s];
  const out = new Set<string>();
  for (let i = 0; i + 3 <= cps.length; i++) out.add(cps.slice(i, i + 3).join(''));
  return [...out];
}
