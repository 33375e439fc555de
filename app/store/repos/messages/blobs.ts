/**
 * The stored bytes of messages, written once and shared by copies: the analysis and header index
 * (`message_blobs`), the header block (`message_heads`), the summary fields' lines
 * (`message_summaries`) and the packed body (`message_raw`); reads by blob, integrity checks and
 * lookups by content.
 */
import { createHash } from 'node:crypto';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { summaryHeader } from '../../../mime/header-fields.ts';
import type { HeaderIndex, MessageAnalysis } from '../../../mime/types.ts';
import { NotFoundError } from '../../../shared/errors.ts';
import type { StoreDb } from '../../sql.ts';
import { newObjectId } from '../../object-ids.ts';
import { assignThreadId, sqlThreadIndex } from '../../thread-ids.ts';
import {
  CHUNK_SIZE,
  CHUNKED_FROM,
  decodeRaw,
  headerEnd,
  RAW_EVICTED,
  joinChunks,
  packBody,
  packBodyAsync,
  packSlices,
  packSlicesAsync,
  sha256Sliced,
  type PackedBody,
} from '../raw-codec.ts';
import type { BodyChunks, StoredBody } from './body-chunks.ts';
import {
  encodeBody,
  encodeEnvelope,
  encodeParts,
  HEADER_COLS,
  headersFrom,
  type HeaderDbRow,
  type NewMessage,
} from './rows.ts';

export class MessageBlobs {
  readonly #s: StoreDb;
  readonly #compress: boolean;
  readonly #chunks: BodyChunks;

  constructor(s: StoreDb, compressBodies: boolean, chunks: BodyChunks) {
    this.#s = s;
    this.#compress = compressBodies;
    this.#chunks = chunks;
  }

  /** Whether new message bodies are stored deflated. */
  get compressBodies(): boolean {
    return this.#compress;
  }

  /**
   * The message with its body already packed (off the main thread when big), for a caller that
   * inserts it next: insertBatch then only writes (it packs in its transaction otherwise). A body
   * of CHUNKED_FROM bytes or more is cut into slices, for staged() to write ahead as chunks (and
   * its SHA-256 taken in slices).
   */
  async prepack(m: NewMessage): Promise<NewMessage> {
    if (m.packedBody) return m;
    const body = m.raw.subarray(headerEnd(m.raw, m.analysis));
    if (body.length >= CHUNKED_FROM) {
      const packedBody = await packSlicesAsync(body, this.#compress);
      return { ...m, sha256: m.sha256 ?? (await sha256Sliced(m.raw)), packedBody };
    }
    if (!this.#compress) return m;
    return { ...m, packedBody: await packBodyAsync(body) };
  }

  /** Stores a message's bytes and analysis (inside the caller's transaction); returns the blob id. */
  insert(raw: Buffer, a: MessageAnalysis, sha256?: Buffer, prepacked?: StoredBody): number {
    const h = a.headers;
    const res = this.#s
      .prepare(
        `INSERT INTO message_blobs (size, sha256, envelope, body_structure, body, parts, subject, from_display,
           to_display, cc_display, bcc_display, from_addr, to_addr, cc_addr, date, message_id, in_reply_to, refs, base_subject,
           email_id, thread_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        raw.length,
        sha256 ?? createHash('sha256').update(raw).digest(),
        encodeEnvelope(a.envelope),
        a.bodyStructure,
        encodeBody(a.body, a.bodyStructure),
        encodeParts(a.parts),
        h.subject,
        h.from,
        h.to,
        h.cc,
        h.bcc,
        h.fromAddr,
        h.toAddr,
        h.ccAddr,
        h.date,
        h.messageId,
        h.inReplyTo,
        JSON.stringify(h.references),
        h.baseSubject,
        newObjectId('M'),
        assignThreadId(
          sqlThreadIndex((sql) => this.#s.prepare(sql)),
          h,
        ),
      );
    const blobId = Number(res.lastInsertRowid);
    const split = headerEnd(raw, a);
    const body = raw.subarray(split);
    // a big body not prepacked (an insert that did not go through prepack + staged) is still
    // stored in chunks, so that reading it never needs it whole
    const row = this.#chunks.rowFor(
      prepacked ?? (body.length >= CHUNKED_FROM ? packSlices(body, this.#compress) : this.#pack(body)),
    );
    // Queued for the full-text index first: the body's stored size waits in the queue row until
    // it is indexed and joins the body cache (migration 19's trigger on message_raw puts it there).
    this.#s.prepare('INSERT INTO fts_queue (blob_id) VALUES (?)').run(blobId);
    // The header block lives in message_heads (dense pages for header-only FETCH, migration 4).
    if (row.chunks === null)
      this.#s
        .prepare("INSERT INTO message_raw (blob_id, compression, head, body) VALUES (?, ?, x'', ?)")
        .run(blobId, row.compression, row.body);
    else
      this.#s
        .prepare(
          "INSERT INTO message_raw (blob_id, compression, head, body, chunks) VALUES (?, 0, x'', x'', ?)",
        )
        .run(blobId, row.chunks);
    const head = raw.subarray(0, split);
    this.#s.prepare('INSERT INTO message_heads (blob_id, head) VALUES (?, ?)').run(blobId, head);
    // The fields clients list folders with, apart (migration 5): a header sync reads only these.
    const summary = summaryOf(head);
    if (summary)
      this.#s.prepare('INSERT INTO message_summaries (blob_id, head) VALUES (?, ?)').run(blobId, summary);
    return blobId;
  }

  /** The raw bytes of a blob (exactly as served). */
  raw(blobId: number): Buffer {
    const r = this.#s
      .prepare<{ compression: number; head: Buffer; body: Buffer; chunks: number | null }>(
        'SELECT mr.compression, h.head, mr.body, mr.chunks FROM message_raw mr JOIN message_heads h ON h.blob_id = mr.blob_id WHERE mr.blob_id = ?',
      )
      .get(blobId);
    if (!r) throw new NotFoundError(`message blob ${blobId}`);
    return this.#chunks.join(r.head, r);
  }

  /**
   * raw() for a caller that can wait: a body in chunks is read a chunk per turn of the event loop
   * (an upload or an export of a 20 MB message).
   */
  async rawAsync(blobId: number): Promise<Buffer> {
    const r = this.#s
      .prepare<{ head: Buffer; chunks: number | null; size: number }>(
        'SELECT h.head, mr.chunks, b.size FROM message_raw mr JOIN message_heads h ON h.blob_id = mr.blob_id JOIN message_blobs b ON b.id = mr.blob_id WHERE mr.blob_id = ?',
      )
      .get(blobId);
    if (!r) throw new NotFoundError(`message blob ${blobId}`);
    if (r.chunks === null) return this.raw(blobId);
    return this.#chunks.lazy(r.chunks, r.head, r.size).whole();
  }

  /** The SHA-256 of a blob's bytes, as recorded at insert. */
  sha256(blobId: number): Buffer {
    const r = this.#s
      .prepare<{ sha256: Buffer }>('SELECT sha256 FROM message_blobs WHERE id = ?')
      .get(blobId);
    if (!r) throw new NotFoundError(`message blob ${blobId}`);
    return r.sha256;
  }

  /**
   * At least the first `n` bytes of a blob (all of it when shorter; a body stored inline is read
   * whole), reading only the chunks they need: the full-text document of a 20 MB message. Of a
   * message whose body is evicted (body cache): null.
   */
  rawPrefix(blobId: number, n: number): Buffer | null {
    const r = this.#s
      .prepare<{ compression: number; head: Buffer; body: Buffer; chunks: number | null }>(
        'SELECT mr.compression, h.head, mr.body, mr.chunks FROM message_raw mr JOIN message_heads h ON h.blob_id = mr.blob_id WHERE mr.blob_id = ?',
      )
      .get(blobId);
    if (!r) throw new NotFoundError(`message blob ${blobId}`);
    if (r.compression === RAW_EVICTED) return null;
    if (r.chunks === null) return this.#chunks.join(r.head, r);
    const want = Math.ceil(Math.max(0, n - r.head.length) / CHUNK_SIZE);
    return joinChunks(r.head, this.#chunks.readFirst(r.chunks, want));
  }

  /**
   * Whether a blob's stored bytes are whole: they can be read and decoded, and their length and
   * SHA-256 are the ones recorded at insert (repair finds local copies damaged behind our back).
   * A body in chunks is read and hashed a chunk per turn of the event loop (a 20 MB message read
   * and hashed at once held it 0.1-0.3 s).
   */
  async intact(blobId: number): Promise<boolean> {
    const b = this.#s
      .prepare<{ size: number; sha256: Buffer }>('SELECT size, sha256 FROM message_blobs WHERE id = ?')
      .get(blobId);
    if (!b) return false;
    const r = this.#s
      .prepare<{ compression: number; head: Buffer; body: Buffer; chunks: number | null }>(
        'SELECT mr.compression, h.head, mr.body, mr.chunks FROM message_raw mr JOIN message_heads h ON h.blob_id = mr.blob_id WHERE mr.blob_id = ?',
      )
      .get(blobId);
    if (!r) return false;
    // an evicted body (body cache) is not stored, so nothing of it can be damaged: the provider
    // has it, and it is fetched again when asked for
    if (r.compression === RAW_EVICTED) return true;
    const h = createHash('sha256');
    let n: number;
    if (r.chunks === null) {
      let raw: Buffer;
      try {
        raw = this.#chunks.join(r.head, r);
      } catch {
        return false;
      }
      h.update(raw);
      n = raw.length;
    } else {
      // as join() serves them: the header block, then every chunk in order
      h.update(r.head);
      n = r.head.length;
      this.#chunks.hold(r.chunks);
      try {
        for (let seq = 0; ; seq++) {
          await yieldLoop();
          const c = this.#chunks.chunk(r.chunks, seq);
          if (!c) break;
          const data = decodeRaw(c.compression, c.data);
          h.update(data);
          n += data.length;
        }
      } catch {
        return false;
      } finally {
        this.#chunks.release(r.chunks);
      }
    }
    return n === b.size && h.digest().equals(b.sha256);
  }

  /**
   * Writes a damaged blob's bytes again, in place (every message sharing it keeps its UID): only
   * with exactly the bytes recorded (same SHA-256), so what clients were served does not change;
   * false (nothing written) for other bytes, or once no message holds the blob any more (its last
   * message expunged meanwhile: the blob is gone). A big body is packed on the thread pool and
   * written ahead in chunks (staged), as an APPEND's.
   */
  async restoreRaw(blobId: number, msg: NewMessage): Promise<boolean> {
    const recorded = this.#s.prepare<{ sha256: Buffer }>('SELECT sha256 FROM message_blobs WHERE id = ?');
    const b = recorded.get(blobId);
    if (!b) return false;
    const m = await this.prepack(msg);
    const raw = m.raw;
    const sha256 = m.sha256 ?? createHash('sha256').update(raw).digest();
    if (!sha256.equals(b.sha256)) return false;
    const split = headerEnd(raw, m.analysis);
    const head = raw.subarray(0, split);
    return this.#chunks.staged([m], ([staged]) => {
      const packed = staged!.packedBody ?? this.#pack(raw.subarray(split));
      return this.#s.write(() => {
        // expunged while it was packed or its chunks written: nothing to hold it any more
        if (!recorded.get(blobId)) return false;
        const row = this.#chunks.rowFor(packed);
        this.#s
          .prepare(
            `INSERT INTO message_raw (blob_id, compression, head, body, chunks) VALUES (?, ?, x'', ?, ?)
             ON CONFLICT(blob_id) DO UPDATE SET compression = excluded.compression, head = x'', body = excluded.body,
               chunks = excluded.chunks`,
          )
          .run(blobId, row.compression, row.body, row.chunks);
        this.#s
          .prepare(
            'INSERT INTO message_heads (blob_id, head) VALUES (?, ?) ON CONFLICT(blob_id) DO UPDATE SET head = excluded.head',
          )
          .run(blobId, head);
        const summary = summaryOf(head);
        if (summary)
          this.#s
            .prepare(
              'INSERT INTO message_summaries (blob_id, head) VALUES (?, ?) ON CONFLICT(blob_id) DO UPDATE SET head = excluded.head',
            )
            .run(blobId, summary);
        else this.#s.prepare('DELETE FROM message_summaries WHERE blob_id = ?').run(blobId);
        return true;
      });
    });
  }

  /** The raw header block (through the blank line), read without touching the body. */
  header(blobId: number): Buffer {
    const r = this.#s
      .prepare<{ head: Buffer }>('SELECT head FROM message_heads WHERE blob_id = ?')
      .get(blobId);
    if (!r) throw new NotFoundError(`message blob ${blobId}`);
    return r.head;
  }

  /** The header index of a blob (subject, addresses, date, Message-ID, ...). */
  headers(blobId: number): HeaderIndex | null {
    const r = this.#s
      .prepare<HeaderDbRow>(`SELECT ${HEADER_COLS} FROM message_blobs b WHERE b.id = ?`)
      .get(blobId);
    return r ? headersFrom(r) : null;
  }

  /**
   * Blobs of an account's messages whose Message-ID is `messageId` (`<...>`, as the header index
   * keeps it), at most `limit` (the message_id index; e.g. "is this a reply to encrypted mail?").
   */
  blobsWithMessageId(accountId: number, messageId: string, limit: number): number[] {
    return this.#s
      .prepare<number>(
        `SELECT DISTINCT b.id FROM message_blobs b JOIN messages m ON m.blob_id = b.id
         JOIN mailboxes x ON x.id = m.mailbox_id WHERE b.message_id = ? AND x.account_id = ? LIMIT ?`,
      )
      .pluck()
      .all(messageId, accountId, limit) as unknown as number[];
  }

  /** Is there a message with this Message-ID in the mailbox? (given with or without angle brackets) */
  hasMessageId(mailboxId: number, messageId: string): boolean {
    const bare = messageId.trim().replace(/^<|>$/g, '');
    const row = this.#s
      .prepare<{ one: number }>(
        `SELECT 1 AS one FROM messages m JOIN message_blobs b ON b.id = m.blob_id
          WHERE m.mailbox_id = ? AND b.message_id IN (?, ?) LIMIT 1`,
      )
      .get(mailboxId, bare, `<${bare}>`);
    return row !== undefined;
  }

  /** A message in the mailbox with exactly these bytes (by SHA-256), if any. */
  findBySha256(mailboxId: number, sha256: Buffer): number | null {
    return (
      this.#s
        .prepare<{ uid: number }>(
          'SELECT m.uid FROM message_blobs b CROSS JOIN messages m ON m.blob_id = b.id WHERE b.sha256 = ? AND m.mailbox_id = ? LIMIT 1',
        )
        .get(sha256, mailboxId)?.uid ?? null
    );
  }

  #pack(body: Buffer): PackedBody {
    return this.#compress ? packBody(body) : { compression: 0, data: body };
  }
}

/**
 * The summary block to store for header block `head`, or null when it would save little over
 * the header block: a summary read then falls back to the header block (reads.ts), which gives the
 * same bytes for any HEADER.FIELDS of summary fields. Small mail is nearly all summary fields, and
 * its two status lines (X-Lockbridge-Encryption/-Signature) are not: its summary repeated ~240 B
 * of a synced 1 KB message's ~2.7 KB (bench/million.ts, dbstat). Kept where it saves a quarter of
 * the header block or more (everyday mail: Received, DKIM, ARC... lines several KB long).
 */
function summaryOf(head: Buffer): Buffer | null {
  const summary = summaryHeader(head);
  return head.length - summary.length < head.length / 4 ? null : summary;
}
