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

/**
 * Full-text search (index and exact check alike) reads the first 1 MiB of a message: its header,
 * and the text of the text parts that start in them (of which mime/text-extract keeps at most
 * 256 KiB of characters). Mail puts its text first and attachments after it; a text part after 1 MiB
 * of attachments is not searched.
 */
export const FTS_BYTES = 1024 * 1024;

export class MessageFullText {
  readonly #s: StoreDb;
  readonly #blobs: MessageBlobs;

  constructor(s: StoreDb, blobs: MessageBlobs) {
    this.#s = s;
    this.#blobs = blobs;
  }

  /**
   * Case-insensitive substring search (IMAP SEARCH TEXT / BODY and header text): the trigram index
   * narrows the candidates, then each is checked exactly, in UID order; not-yet-indexed messages
   * are scanned. `uidRange` (inclusive) bounds the work to a slice of the mailbox. With `budgetMs`,
   * stops after the message that used the budget up: `through` is the last UID checked (the
   * range's end when all were). Returns matching UIDs in ascending order.
   */
  searchText(
    mailboxId: number,
    needle: string,
    scope: TextScope,
    uidRange: readonly [number, number],
    budgetMs = Infinity,
  ): { uids: number[]; through: number } {
    const started = performance.now();
    const [lo, hi] = uidRange;
    const want = needle.toLowerCase();
    type Candidate = { uid: number; blob_id: number };
    let candidates: Candidate[];
    const grams = trigrams(want);
    if (grams.length === 0) {
      // too short for trigrams: check every message
      candidates = this.#s
        .prepare<Candidate>(
          'SELECT uid, blob_id FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid',
        )
        .all(mailboxId, lo, hi);
    } else {
      const query = grams.map((g) => `"${g.replace(/"/g, '""')}"`).join(' AND ');
      const indexed = this.#s
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
      candidates = indexed.concat(queued).sort((a: Candidate, b: Candidate) => a.uid - b.uid);
    }
    const uids: number[] = [];
    for (let i = 0; i < candidates.length; i++) {
      const { uid, blob_id: blobId } = candidates[i]!;
      if (i > 0 && uid === candidates[i - 1]!.uid) continue; // indexed and queued again
      if (want === '') uids.push(uid);
      else {
        const doc = this.#ftsDoc(blobId);
        const hay =
          scope === 'body' ? doc.text : scope === 'headers' ? doc.headers : doc.headers + '\n' + doc.text;
        if (hay.toLowerCase().includes(want)) uids.push(uid);
      }
      if (i + 1 < candidates.length && performance.now() - started >= budgetMs) return { uids, through: uid };
    }
    return { uids, through: hi };
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

  /**
   * The full-text document of a blob, re-derived from its raw bytes: from its first FTS_BYTES
   * (a 20 MB message read and analysed whole took 130-250 ms, in one turn of the event loop).
   */
  #ftsDoc(blobId: number): { headers: string; text: string } {
    const raw = this.#blobs.rawPrefix(blobId, FTS_BYTES);
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
