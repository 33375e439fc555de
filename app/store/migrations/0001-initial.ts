/**
 * The initial schema. Conventions: times are ms since the epoch (INTEGER); JSON in TEXT columns;
 * STRICT tables (FTS5 virtual tables cannot be).
 */
import type { Migration } from './types.ts';

const SQL = `
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  display_name TEXT NOT NULL DEFAULT '',
  imap_host TEXT NOT NULL,
  imap_port INTEGER NOT NULL,
  smtp_host TEXT NOT NULL,
  smtp_port INTEGER NOT NULL,
  security TEXT NOT NULL CHECK (security IN ('starttls', 'tls', 'none')),
  smtp_security TEXT CHECK (smtp_security IN ('starttls', 'tls', 'none')),
  username TEXT NOT NULL,
  provider_password TEXT NOT NULL,
  ca_pem TEXT,
  settings TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE mailboxes (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  parent_id INTEGER REFERENCES mailboxes(id) ON DELETE RESTRICT,
  special_use TEXT,
  subscribed INTEGER NOT NULL DEFAULT 1,
  uidvalidity INTEGER NOT NULL,
  uidnext INTEGER NOT NULL DEFAULT 1,
  highestmodseq INTEGER NOT NULL DEFAULT 1,
  remote_name TEXT,
  created_at INTEGER NOT NULL,
  UNIQUE (account_id, name)
) STRICT;
CREATE INDEX mailboxes_parent ON mailboxes(parent_id);

-- Raw MIME is stored once and shared by copies (refcount maintained by triggers below).
CREATE TABLE message_blobs (
  id INTEGER PRIMARY KEY,
  refcount INTEGER NOT NULL DEFAULT 0,
  size INTEGER NOT NULL,
  sha256 BLOB NOT NULL,
  envelope TEXT NOT NULL,
  body_structure TEXT NOT NULL,
  body TEXT NOT NULL,
  parts TEXT NOT NULL,
  subject TEXT NOT NULL DEFAULT '',
  from_display TEXT NOT NULL DEFAULT '',
  to_display TEXT NOT NULL DEFAULT '',
  cc_display TEXT NOT NULL DEFAULT '',
  bcc_display TEXT NOT NULL DEFAULT '',
  from_addr TEXT NOT NULL DEFAULT '',
  to_addr TEXT NOT NULL DEFAULT '',
  cc_addr TEXT NOT NULL DEFAULT '',
  date INTEGER,
  message_id TEXT,
  in_reply_to TEXT,
  refs TEXT NOT NULL DEFAULT '[]',
  base_subject TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX message_blobs_message_id ON message_blobs(message_id);
CREATE INDEX message_blobs_sha256 ON message_blobs(sha256);

-- Raw bytes live in their own table so metadata rows stay small (fast header scans / FETCH).
-- raw = head || body, split after the header block's blank line, so a header-only FETCH reads
-- just the first page(s) of the record. compression (of body only): 0 = none, 1 = deflate-raw.
CREATE TABLE message_raw (
  blob_id INTEGER PRIMARY KEY REFERENCES message_blobs(id) ON DELETE CASCADE,
  compression INTEGER NOT NULL DEFAULT 0,
  head BLOB NOT NULL,
  body BLOB NOT NULL
) STRICT;

-- flags bitmask: 1 \\Seen, 2 \\Answered, 4 \\Flagged, 8 \\Deleted, 16 \\Draft; keywords space-separated.
CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  uid INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  flags INTEGER NOT NULL DEFAULT 0,
  keywords TEXT NOT NULL DEFAULT '',
  internal_date INTEGER NOT NULL,
  size INTEGER NOT NULL,
  blob_id INTEGER NOT NULL REFERENCES message_blobs(id),
  UNIQUE (mailbox_id, uid)
) STRICT;
CREATE INDEX messages_blob ON messages(blob_id);
CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);

CREATE TRIGGER messages_blob_ref AFTER INSERT ON messages BEGIN
  UPDATE message_blobs SET refcount = refcount + 1 WHERE id = new.blob_id;
END;
CREATE TRIGGER messages_blob_unref AFTER DELETE ON messages BEGIN
  UPDATE message_blobs SET refcount = refcount - 1 WHERE id = old.blob_id;
  DELETE FROM message_blobs WHERE id = old.blob_id AND refcount <= 0;
END;

-- Full-text prefilter (trigram: substring search), rowid = message_blobs.id. Contentless and
-- detail=none: the index is ~5% of the text's size (a stored copy of the text would be larger
-- than the compressed raw mail). Queries AND the needle's trigrams; candidates are then checked
-- exactly against the text re-derived from the raw message.
CREATE VIRTUAL TABLE message_fts USING fts5(
  headers, text, tokenize = 'trigram', detail = 'none', content = '', contentless_delete = 1
);
-- Messages not yet in message_fts (indexing is deferred so imports stay fast; the indexer
-- re-derives the text from the raw message); searches check these directly.
CREATE TABLE fts_queue (
  blob_id INTEGER PRIMARY KEY REFERENCES message_blobs(id) ON DELETE CASCADE
) STRICT;
CREATE TRIGGER message_blobs_fts_delete AFTER DELETE ON message_blobs BEGIN
  DELETE FROM message_fts WHERE rowid = old.id;
END;

-- Expunged UIDs per mailbox with the MODSEQ of the expunge (CONDSTORE/QRESYNC VANISHED).
CREATE TABLE expunge_log (
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  uid INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  PRIMARY KEY (mailbox_id, uid)
) STRICT, WITHOUT ROWID;

CREATE TABLE remote_map (
  message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  remote_mailbox TEXT NOT NULL,
  remote_uidvalidity INTEGER NOT NULL,
  remote_uid INTEGER NOT NULL,
  content_hash BLOB,
  UNIQUE (account_id, remote_mailbox, remote_uidvalidity, remote_uid)
) STRICT;

CREATE TABLE own_keys (
  fingerprint TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  armored_secret TEXT NOT NULL,
  armored_public TEXT NOT NULL,
  revocation_cert TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  status TEXT NOT NULL CHECK (status IN ('active', 'retired', 'revoked')),
  backed_up_at INTEGER,
  prefer_encrypt TEXT NOT NULL DEFAULT 'mutual'
) STRICT;
CREATE INDEX own_keys_email ON own_keys(email);

CREATE TABLE contacts (
  email TEXT PRIMARY KEY,
  encrypt TEXT,
  sign INTEGER,
  attach_key INTEGER,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE contact_keys (
  email TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  armored TEXT NOT NULL,
  source TEXT NOT NULL,
  trust TEXT NOT NULL,
  status TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  revoked INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (email, fingerprint)
) STRICT;
CREATE INDEX contact_keys_fingerprint ON contact_keys(fingerprint);

CREATE TABLE key_changes (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  old_fingerprint TEXT NOT NULL,
  new_fingerprint TEXT NOT NULL,
  source TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  resolved_at INTEGER,
  resolution TEXT
) STRICT;
CREATE INDEX key_changes_email ON key_changes(email, seen_at);

CREATE TABLE autocrypt_peers (
  email TEXT PRIMARY KEY,
  last_seen INTEGER NOT NULL,
  autocrypt_timestamp INTEGER,
  public_key BLOB,
  prefer_encrypt TEXT NOT NULL DEFAULT 'nopreference',
  gossip_timestamp INTEGER,
  gossip_key BLOB
) STRICT;

CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  envelope TEXT NOT NULL,
  raw BLOB NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt INTEGER NOT NULL,
  last_error TEXT,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_due ON outbox(state, next_attempt);

CREATE TABLE sync_state (
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  remote_mailbox TEXT NOT NULL,
  state TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, remote_mailbox)
) STRICT;

CREATE TABLE pending_changes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX pending_changes_account ON pending_changes(account_id, id);

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- The local password is shown by \`lockbridge credentials\`, so it is kept (inside the encrypted DB).
CREATE TABLE local_credentials (
  username TEXT PRIMARY KEY,
  password TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE tls (
  name TEXT PRIMARY KEY,
  cert_pem TEXT NOT NULL,
  key_pem TEXT NOT NULL,
  not_after INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
`;

export const migration0001: Migration = {
  version: 1,
  name: 'initial',
  up(db) {
    db.exec(SQL);
  },
};
