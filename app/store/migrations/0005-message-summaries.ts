/**
 * Summary header blocks: per stored message, the lines of the fields mail clients fetch when they
 * list a folder (app/mime/header-fields.ts SUMMARY_FIELDS), in their own table. A header sync
 * (Thunderbird's UID FETCH 1:* (... BODY.PEEK[HEADER.FIELDS (From To ...)])) then reads these
 * instead of whole header blocks: real mail's headers are mostly Received, DKIM and ARC lines, so
 * the pages read (and decrypted) per message drop several-fold, and the field scan with them.
 * Filled here from message_heads for every stored message; new messages get theirs at insert.
 *
 * Frozen: the field list and the line filter are copied here as they were when this migration was
 * released, so that a later change to SUMMARY_FIELDS cannot change what this step wrote (that
 * change needs a migration of its own). A migration imports no app code.
 */
import type { Migration } from './types.ts';

/** SUMMARY_FIELDS of app/mime/header-fields.ts at schema version 5. */
const FIELDS_V5: ReadonlySet<string> = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'subject',
  'date',
  'message-id',
  'priority',
  'x-priority',
  'references',
  'newsgroups',
  'in-reply-to',
  'content-type',
  'reply-to',
  'sender',
  'content-description',
  'lines',
  'list-id',
  'list-post',
  'list-subscribe',
  'list-unsubscribe',
  'x-label',
  'x-original-to',
  'delivered-to',
  'x-tuid',
  'content-transfer-encoding',
  'mime-version',
  'chat-version',
  'x-k9mail-identity',
  'importance',
  'x-mailer',
  'user-agent',
]);

/**
 * The lines of FIELDS_V5 in a header block, in order and byte for byte: a field's folded
 * continuation lines go with it, lines that are not fields are dropped, the blank line ends it.
 */
function summaryV5(header: Buffer): Buffer {
  const kept: Buffer[] = [];
  let keep = false;
  let pos = 0;
  while (pos < header.length) {
    const first = header[pos]!;
    if (first === 0x0d || first === 0x0a) break;
    let eol = header.indexOf(0x0a, pos);
    eol = eol < 0 ? header.length : eol + 1;
    if (first !== 0x20 && first !== 0x09) {
      const line = header.toString('latin1', pos, eol);
      const colon = line.indexOf(':');
      const name = line.slice(0, Math.max(colon, 0)).replace(/[ \t]+$/, '');
      keep = colon > 0 && FIELDS_V5.has(name.toLowerCase());
    }
    if (keep) kept.push(header.subarray(pos, eol));
    pos = eol;
  }
  return Buffer.concat(kept);
}

const BATCH = 2000;

export const migration0005: Migration = {
  version: 5,
  name: 'message-summaries',
  up(db) {
    db.exec(`
      CREATE TABLE message_summaries (
        blob_id INTEGER PRIMARY KEY REFERENCES message_blobs(id) ON DELETE CASCADE,
        head BLOB NOT NULL
      ) STRICT;
    `);
    const read = db
      .prepare('SELECT blob_id, head FROM message_heads WHERE blob_id > ? ORDER BY blob_id LIMIT ?')
      .raw(true);
    const insert = db.prepare('INSERT INTO message_summaries (blob_id, head) VALUES (?, ?)');
    let last = 0;
    for (;;) {
      const rows = read.all(last, BATCH) as Array<[number, Buffer]>;
      for (const [blobId, head] of rows) insert.run(blobId, summaryV5(head));
      if (rows.length < BATCH) break;
      last = rows[rows.length - 1]![0];
    }
  },
};
