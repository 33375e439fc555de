/**
 * THREADID (IMAP OBJECTID, RFC 8474 §5.2; schema 12): the messages of one conversation share a
 * random id (`T` + 96 bits in hex), in every mailbox of the store, found from the Message-ID,
 * References and In-Reply-To headers (RFC 5256's REFERENCES links, without its subject step).
 *
 * `message_threads` maps every Message-ID the store has seen — of a stored message or named in
 * one's References/In-Reply-To — to its thread. A new message takes the thread of its own
 * Message-ID (a reply that arrived first already named it), else of its nearest known ancestor,
 * else a new one; then the ids it names without a thread get its thread. A thread id, once given,
 * never changes (a message is stored once: copies and moves share its blob and so its EMAILID and
 * THREADID). So two threads never merge: a message that links two of them stays in the one of its
 * own Message-ID (with its replies), which is the split a client's cache survives.
 */
import { newObjectId } from './object-ids.ts';

export interface ThreadHeaders {
  messageId: string | null;
  inReplyTo: string | null;
  references: readonly string[];
}

/** Only the nearest this many References are looked at (a long list repeats a thread's root). */
const MAX_REFS = 50;

/** Where Message-IDs are mapped to their thread (message_threads, or a map in a test backend). */
export interface ThreadIndex {
  find(messageId: string): string | undefined;
  /** Maps `messageId` to `thread` unless it is mapped already. */
  record(messageId: string, thread: string): void;
}

interface Stmt {
  get(...params: unknown[]): unknown;
  run(...params: unknown[]): unknown;
}

/** The index in `message_threads`, through StoreDb.prepare (migration 12 repeats the rule for old blobs). */
export function sqlThreadIndex(prepare: (sql: string) => Stmt): ThreadIndex {
  return {
    find: (id) =>
      (
        prepare('SELECT thread_id FROM message_threads WHERE message_id = ?').get(id) as
          { thread_id: string } | undefined
      )?.thread_id,
    record: (id, thread) => {
      prepare('INSERT OR IGNORE INTO message_threads (message_id, thread_id) VALUES (?, ?)').run(id, thread);
    },
  };
}

/** The thread of a message being stored (inside the caller's transaction). */
export function assignThreadId(index: ThreadIndex, h: ThreadHeaders): string {
  const keys: string[] = [];
  const add = (id: string | null | undefined): void => {
    if (id && !keys.includes(id)) keys.push(id);
  };
  add(h.messageId);
  const refs = h.references;
  for (let i = refs.length - 1; i >= Math.max(0, refs.length - MAX_REFS); i--) add(refs[i]);
  add(h.inReplyTo);
  let thread: string | undefined;
  for (const k of keys) if ((thread = index.find(k)) !== undefined) break;
  thread ??= newObjectId('T');
  for (const k of keys) index.record(k, thread);
  return thread;
}
