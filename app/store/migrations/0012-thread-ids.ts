/**
 * THREADID (IMAP OBJECTID, RFC 8474 §5.2): every stored message blob gets a thread id
 * (`thread_id`, `T` + 96 random bits in hex), shared by the messages of one conversation, and
 * `message_threads` maps the Message-IDs seen to their thread (app/store/thread-ids.ts says how new
 * messages are threaded). Blobs stored before this step are threaded here the same way, in the
 * order they were stored (the rule is written out again: a released step imports no app code).
 */
import { randomBytes } from 'node:crypto';
import type { Migration } from './types.ts';

export const migration0012: Migration = {
  version: 12,
  name: 'thread-ids',
  up(db) {
    db.exec(`
      CREATE TABLE message_threads (
        message_id TEXT PRIMARY KEY,
        thread_id TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
      ALTER TABLE message_blobs ADD COLUMN thread_id TEXT;
    `);
    const find = db.prepare('SELECT thread_id FROM message_threads WHERE message_id = ?').pluck();
    const record = db.prepare('INSERT OR IGNORE INTO message_threads (message_id, thread_id) VALUES (?, ?)');
    const set = db.prepare('UPDATE message_blobs SET thread_id = ? WHERE id = ?');
    const rows = db
      .prepare('SELECT id, message_id, in_reply_to, refs FROM message_blobs ORDER BY id')
      .all() as { id: number; message_id: string | null; in_reply_to: string | null; refs: string }[];
    for (const r of rows) {
      // its own Message-ID first, then its References nearest first (at most 50), then In-Reply-To
      const keys: string[] = [];
      const add = (id: string | null | undefined): void => {
        if (id && !keys.includes(id)) keys.push(id);
      };
      add(r.message_id);
      const refs = JSON.parse(r.refs) as string[];
      for (let i = refs.length - 1; i >= Math.max(0, refs.length - 50); i--) add(refs[i]);
      add(r.in_reply_to);
      let thread: string | undefined;
      for (const k of keys) if ((thread = find.get(k) as string | undefined) !== undefined) break;
      thread ??= 'T' + randomBytes(12).toString('hex');
      for (const k of keys) record.run(k, thread);
      set.run(thread, r.id);
    }
  },
};
