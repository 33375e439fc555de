/**
 * Mailboxes: full UTF-8 names with '/' as the hierarchy delimiter; INBOX is case-insensitive and
 * canonicalised. Missing parents are created. UIDVALIDITY is unique for each mailbox ever made.
 */
import { ConflictError, NotFoundError, UserError } from '../../shared/errors.ts';
import type { StoreDb } from '../sql.ts';
import { newObjectId } from '../object-ids.ts';
import type { Origin, PendingChangesRepo } from './pending-changes.ts';

export const DELIMITER = '/';
export type SpecialUse = '\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk' | '\\Archive' | '\\All' | '\\Flagged';

export interface Mailbox {
  id: number;
  accountId: number;
  name: string;
  parentId: number | null;
  specialUse: SpecialUse | null;
  subscribed: boolean;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  remoteName: string | null;
  createdAt: number;
  /** MAILBOXID (RFC 8474): random, kept through renames, never reused. */
  objectId: string;
}

export interface MailboxStatus {
  messages: number;
  unseen: number;
  deleted: number;
  size: number;
  uidNext: number;
  uidValidity: number;
  highestModseq: number;
}

export interface CreateMailboxOptions {
  specialUse?: SpecialUse | null;
  subscribed?: boolean;
  remoteName?: string | null;
  origin?: Origin;
}

interface Row {
  id: number;
  account_id: number;
  name: string;
  parent_id: number | null;
  special_use: SpecialUse | null;
  subscribed: number;
  uidvalidity: number;
  uidnext: number;
  highestmodseq: number;
  remote_name: string | null;
  created_at: number;
  object_id: string;
}

function fromRow(r: Row): Mailbox {
  return {
    id: r.id,
    accountId: r.account_id,
    name: r.name,
    parentId: r.parent_id,
    specialUse: r.special_use,
    subscribed: r.subscribed === 1,
    uidValidity: r.uidvalidity,
    uidNext: r.uidnext,
    highestModseq: r.highestmodseq,
    remoteName: r.remote_name,
    createdAt: r.created_at,
    objectId: r.object_id,
  };
}

export class InvalidMailboxNameError extends UserError {
  override name = 'InvalidMailboxNameError';
}

/** Validates and canonicalises a mailbox name (INBOX in any case → 'INBOX'). */
export function normalizeMailboxName(name: string): string {
  let n = name;
  if (n.endsWith(DELIMITER)) n = n.slice(0, -1);
  if (!n) throw new InvalidMailboxNameError('bad-mailbox-name', 'mailbox name is empty');
  const segs = n.split(DELIMITER);
  if (segs.some((s) => s === ''))
    throw new InvalidMailboxNameError('bad-mailbox-name', `mailbox name "${name}" has an empty level`);
  if (/[\u0000-\u001f\u007f]/.test(n) || n.includes('*') || n.includes('%'))
    throw new InvalidMailboxNameError(
      'bad-mailbox-name',
      `mailbox name "${name}" contains a forbidden character`,
    );
  if (segs[0]!.toUpperCase() === 'INBOX') segs[0] = 'INBOX';
  return segs.join(DELIMITER);
}

function parentName(name: string): string | null {
  const i = name.lastIndexOf(DELIMITER);
  return i < 0 ? null : name.slice(0, i);
}

export class MailboxesRepo {
  readonly #s: StoreDb;
  readonly #pending: PendingChangesRepo;
  constructor(s: StoreDb, pending: PendingChangesRepo) {
    this.#s = s;
    this.#pending = pending;
  }

  /**
   * Rows read since the database last changed (StoreDb.generation), by id and by the name asked
   * for: a client's SELECT, STATUS or FETCH looks its mailbox up once or twice per command, and
   * SQLite costs ~4 µs per lookup where the map costs ~0.1.
   */
  readonly #byId = new Map<number, Row | undefined>();
  readonly #byName = new Map<string, Row | undefined>();
  #generation = -1;

  /** A row through the cache; inside a write transaction always from the database. */
  #row<K>(map: Map<K, Row | undefined>, key: K, read: () => Row | undefined): Row | undefined {
    if (this.#s.inWrite) return read();
    if (this.#generation !== this.#s.generation || this.#byId.size + this.#byName.size > 4096) {
      this.#byId.clear();
      this.#byName.clear();
      this.#generation = this.#s.generation;
    }
    let r = map.get(key);
    if (r === undefined && !map.has(key)) {
      r = read();
      map.set(key, r);
    }
    return r;
  }

  get(id: number): Mailbox | null {
    const r = this.#row(this.#byId, id, () =>
      this.#s.prepare<Row>('SELECT * FROM mailboxes WHERE id = ?').get(id),
    );
    return r ? fromRow(r) : null;
  }

  require(id: number): Mailbox {
    const m = this.get(id);
    if (!m) throw new NotFoundError(`mailbox ${id}`);
    return m;
  }

  getByName(accountId: number, name: string): Mailbox | null {
    let n: string;
    try {
      n = normalizeMailboxName(name);
    } catch {
      return null;
    }
    const r = this.#row(this.#byName, `${accountId}/${n}`, () =>
      this.#s.prepare<Row>('SELECT * FROM mailboxes WHERE account_id = ? AND name = ?').get(accountId, n),
    );
    return r ? fromRow(r) : null;
  }

  getByRemoteName(accountId: number, remoteName: string): Mailbox | null {
    const r = this.#s
      .prepare<Row>('SELECT * FROM mailboxes WHERE account_id = ? AND remote_name = ?')
      .get(accountId, remoteName);
    return r ? fromRow(r) : null;
  }

  list(accountId: number): Mailbox[] {
    return this.#s
      .prepare<Row>('SELECT * FROM mailboxes WHERE account_id = ? ORDER BY name')
      .all(accountId)
      .map(fromRow);
  }

  children(id: number): Mailbox[] {
    return this.#s
      .prepare<Row>('SELECT * FROM mailboxes WHERE parent_id = ? ORDER BY name')
      .all(id)
      .map(fromRow);
  }

  /** Creates the mailbox (and any missing parents). ConflictError if it exists. */
  create(accountId: number, name: string, opts: CreateMailboxOptions = {}): Mailbox {
    const n = normalizeMailboxName(name);
    return this.#s.write(() => {
      if (this.getByName(accountId, n))
        throw new ConflictError('mailbox-exists', `mailbox ${n} already exists`);
      return this.#insert(accountId, n, opts);
    });
  }

  /** Returns the mailbox, creating it when missing. */
  ensure(accountId: number, name: string, opts: CreateMailboxOptions = {}): Mailbox {
    const n = normalizeMailboxName(name);
    return this.#s.write(() => this.getByName(accountId, n) ?? this.#insert(accountId, n, opts));
  }

  #insert(accountId: number, name: string, opts: CreateMailboxOptions): Mailbox {
    const pName = parentName(name);
    const parent = pName === null ? null : this.ensure(accountId, pName, { origin: opts.origin ?? 'local' });
    // a fresh id, never one a deleted mailbox had (migration 0011)
    const id = Number(this.#s.prepare('INSERT INTO mailbox_ids DEFAULT VALUES').run().lastInsertRowid);
    this.#s.prepare('DELETE FROM mailbox_ids WHERE id = ?').run(id);
    this.#s
      .prepare(
        `INSERT INTO mailboxes (id, account_id, name, parent_id, special_use, subscribed, uidvalidity, remote_name, created_at, object_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        accountId,
        name,
        parent?.id ?? null,
        opts.specialUse ?? null,
        opts.subscribed === false ? 0 : 1,
        this.#nextUidValidity(),
        opts.remoteName ?? null,
        Date.now(),
        newObjectId('F'),
      );
    this.#s.emit({ type: 'mailbox-created', accountId, mailboxId: id, name });
    if ((opts.origin ?? 'local') === 'local')
      this.#pending.enqueue(accountId, { kind: 'mailbox-create', mailboxId: id, name });
    return this.get(id)!;
  }

  #nextUidValidity(): number {
    const row = this.#s
      .prepare<{ value: string }>("SELECT value FROM settings WHERE key = 'store.lastUidValidity'")
      .get();
    const last = row ? (JSON.parse(row.value) as number) : 0;
    let next = Math.max(Math.floor(Date.now() / 1000), last + 1);
    if (next > 0xffffffff) next = last + 1 > 0xffffffff ? 1 : last + 1;
    this.#s
      .prepare(
        "INSERT INTO settings (key, value) VALUES ('store.lastUidValidity', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      )
      .run(JSON.stringify(next));
    return next;
  }

  /**
   * Renames a mailbox and its children (same account). Renaming INBOX is not supported here
   * (IMAP's special INBOX rename = create + move all messages; do that in the caller).
   */
  rename(id: number, newName: string, origin: Origin = 'local'): Mailbox {
    const n = normalizeMailboxName(newName);
    return this.#s.write(() => {
      const mb = this.require(id);
      if (mb.name === 'INBOX') throw new ConflictError('inbox-rename', 'INBOX cannot be renamed');
      if (n === mb.name) return mb;
      if (this.getByName(mb.accountId, n))
        throw new ConflictError('mailbox-exists', `mailbox ${n} already exists`);
      if (n.startsWith(mb.name + DELIMITER))
        throw new ConflictError('mailbox-rename-into-self', `cannot move ${mb.name} into itself`);
      const pName = parentName(n);
      const parent = pName === null ? null : this.ensure(mb.accountId, pName, { origin });
      const descendants = this.#s
        .prepare<{ id: number; name: string }>(
          'SELECT id, name FROM mailboxes WHERE account_id = ? AND substr(name, 1, ?) = ? ORDER BY name',
        )
        .all(mb.accountId, mb.name.length + 1, mb.name + DELIMITER);
      for (const d of descendants) {
        const target = n + d.name.slice(mb.name.length);
        if (this.getByName(mb.accountId, target))
          throw new ConflictError('mailbox-exists', `mailbox ${target} already exists`);
      }
      this.#s
        .prepare('UPDATE mailboxes SET name = ?, parent_id = ? WHERE id = ?')
        .run(n, parent?.id ?? null, id);
      this.#s.emit({
        type: 'mailbox-renamed',
        accountId: mb.accountId,
        mailboxId: id,
        oldName: mb.name,
        name: n,
      });
      for (const d of descendants) {
        const dn = n + d.name.slice(mb.name.length);
        this.#s.prepare('UPDATE mailboxes SET name = ? WHERE id = ?').run(dn, d.id);
        this.#s.emit({
          type: 'mailbox-renamed',
          accountId: mb.accountId,
          mailboxId: d.id,
          oldName: d.name,
          name: dn,
        });
      }
      if (origin === 'local')
        this.#pending.enqueue(mb.accountId, {
          kind: 'mailbox-rename',
          mailboxId: id,
          oldName: mb.name,
          name: n,
        });
      return this.get(id)!;
    });
  }

  /** Deletes a mailbox and its messages. ConflictError for INBOX or a mailbox with children. */
  delete(id: number, origin: Origin = 'local'): void {
    this.#s.write(() => {
      const mb = this.require(id);
      if (mb.name === 'INBOX') throw new ConflictError('inbox-delete', 'INBOX cannot be deleted');
      if (this.children(id).length)
        throw new ConflictError('mailbox-has-children', `mailbox ${mb.name} has children; delete them first`);
      this.#s.prepare('DELETE FROM messages WHERE mailbox_id = ?').run(id);
      this.#s.prepare('DELETE FROM mailboxes WHERE id = ?').run(id);
      this.#s.emit({ type: 'mailbox-deleted', accountId: mb.accountId, mailboxId: id, name: mb.name });
      if (origin === 'local')
        this.#pending.enqueue(mb.accountId, {
          kind: 'mailbox-delete',
          mailboxId: id,
          name: mb.name,
          remoteName: mb.remoteName,
        });
    });
  }

  setSubscribed(id: number, subscribed: boolean, origin: Origin = 'local'): void {
    this.#s.write(() => {
      const mb = this.require(id);
      this.#s.prepare('UPDATE mailboxes SET subscribed = ? WHERE id = ?').run(subscribed ? 1 : 0, id);
      if (origin === 'local' && mb.subscribed !== subscribed)
        this.#pending.enqueue(mb.accountId, {
          kind: 'mailbox-subscribe',
          mailboxId: id,
          name: mb.name,
          subscribed,
        });
    });
  }

  setSpecialUse(id: number, specialUse: SpecialUse | null): void {
    this.#s.write(() =>
      this.#s.prepare('UPDATE mailboxes SET special_use = ? WHERE id = ?').run(specialUse, id),
    );
  }

  setRemoteName(id: number, remoteName: string | null): void {
    this.#s.write(() =>
      this.#s.prepare('UPDATE mailboxes SET remote_name = ? WHERE id = ?').run(remoteName, id),
    );
  }

  /** Empties the mailbox and gives it a new UIDVALIDITY (a rebuild, e.g. after the provider's changed). */
  resetUidValidity(id: number): number {
    return this.#s.write(() => {
      const v = this.#nextUidValidity();
      const mb = this.require(id);
      this.#s.prepare('DELETE FROM messages WHERE mailbox_id = ?').run(id);
      this.#s.prepare('DELETE FROM expunge_log WHERE mailbox_id = ?').run(id);
      this.#s
        .prepare('UPDATE mailboxes SET uidvalidity = ?, uidnext = 1, highestmodseq = 1 WHERE id = ?')
        .run(v, id);
      this.#s.emit({ type: 'mailbox-uidvalidity', accountId: mb.accountId, mailboxId: id, uidValidity: v });
      return v;
    });
  }

  status(id: number): MailboxStatus {
    // the counts are kept by triggers (migration 6): one row, whatever the mailbox's size
    const r = this.#s
      .prepare<{
        n_messages: number;
        n_unseen: number;
        n_deleted: number;
        n_size: number;
        uidnext: number;
        uidvalidity: number;
        highestmodseq: number;
      }>(
        `SELECT n_messages, n_unseen, n_deleted, n_size, uidnext, uidvalidity, highestmodseq
         FROM mailboxes WHERE id = ?`,
      )
      .get(id);
    if (!r) throw new NotFoundError(`mailbox ${id}`);
    return {
      messages: r.n_messages,
      unseen: r.n_unseen,
      deleted: r.n_deleted,
      size: r.n_size,
      uidNext: r.uidnext,
      uidValidity: r.uidvalidity,
      highestModseq: r.highestmodseq,
    };
  }
}
