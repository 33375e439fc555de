/** Remote provider accounts. */
import { ConflictError, NotFoundError } from '../../shared/errors.ts';
import type { OAuthCredential } from '../../shared/oauth-credential.ts';
import type { StoreDb } from '../sql.ts';

export type { OAuthCredential } from '../../shared/oauth-credential.ts';

export type Security = 'starttls' | 'tls' | 'none';

export interface Account {
  id: number;
  email: string;
  displayName: string;
  imap: { host: string; port: number };
  smtp: { host: string; port: number };
  security: Security;
  /** null = same as `security` */
  smtpSecurity: Security | null;
  username: string;
  /** '' for an account that signs in with OAuth. */
  providerPassword: string;
  /** The OAuth 2.0 sign-in; null for a password account. */
  oauth: OAuthCredential | null;
  caPem: string | null;
  settings: Record<string, unknown>;
  createdAt: number;
  /**
   * When the user signed out keeping the local mail (ms), null while signed in: no credentials,
   * no sync; `signIn` attaches it again.
   */
  signedOutAt: number | null;
}

export interface NewAccount {
  email: string;
  displayName?: string;
  imap: { host: string; port: number };
  smtp: { host: string; port: number };
  security: Security;
  smtpSecurity?: Security | null;
  username?: string;
  providerPassword: string;
  oauth?: OAuthCredential | null;
  caPem?: string | null;
  settings?: Record<string, unknown>;
}

export type AccountPatch = Partial<Omit<NewAccount, 'email'>>;

interface Row {
  id: number;
  email: string;
  display_name: string;
  imap_host: string;
  imap_port: number;
  smtp_host: string;
  smtp_port: number;
  security: Security;
  smtp_security: Security | null;
  username: string;
  provider_password: string;
  oauth: string | null;
  ca_pem: string | null;
  settings: string;
  created_at: number;
  signed_out_at: number | null;
}

function fromRow(r: Row): Account {
  return {
    id: r.id,
    email: r.email,
    displayName: r.display_name,
    imap: { host: r.imap_host, port: r.imap_port },
    smtp: { host: r.smtp_host, port: r.smtp_port },
    security: r.security,
    smtpSecurity: r.smtp_security,
    username: r.username,
    providerPassword: r.provider_password,
    oauth: r.oauth ? (JSON.parse(r.oauth) as OAuthCredential) : null,
    caPem: r.ca_pem,
    settings: JSON.parse(r.settings) as Record<string, unknown>,
    createdAt: r.created_at,
    signedOutAt: r.signed_out_at,
  };
}

export class AccountsRepo {
  readonly #s: StoreDb;
  constructor(s: StoreDb) {
    this.#s = s;
  }

  create(a: NewAccount): Account {
    return this.#s.write(() => {
      if (this.getByEmail(a.email))
        throw new ConflictError('account-exists', `account ${a.email} already exists`);
      const res = this.#s
        .prepare(
          `INSERT INTO accounts (email, display_name, imap_host, imap_port, smtp_host, smtp_port, security,
             smtp_security, username, provider_password, oauth, ca_pem, settings, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          a.email,
          a.displayName ?? '',
          a.imap.host,
          a.imap.port,
          a.smtp.host,
          a.smtp.port,
          a.security,
          a.smtpSecurity ?? null,
          a.username ?? a.email,
          a.providerPassword,
          a.oauth ? JSON.stringify(a.oauth) : null,
          a.caPem ?? null,
          JSON.stringify(a.settings ?? {}),
          Date.now(),
        );
      const id = Number(res.lastInsertRowid);
      this.#s.emit({ type: 'account-added', accountId: id, email: a.email });
      return this.get(id)!;
    });
  }

  get(id: number): Account | null {
    const r = this.#s.prepare<Row>('SELECT * FROM accounts WHERE id = ?').get(id);
    return r ? fromRow(r) : null;
  }

  getByEmail(email: string): Account | null {
    const r = this.#s.prepare<Row>('SELECT * FROM accounts WHERE email = ? COLLATE NOCASE').get(email);
    return r ? fromRow(r) : null;
  }

  require(email: string): Account {
    const a = this.getByEmail(email);
    if (!a) throw new NotFoundError(`account ${email}`);
    return a;
  }

  list(): Account[] {
    return this.#s.prepare<Row>('SELECT * FROM accounts ORDER BY id').all().map(fromRow);
  }

  update(id: number, p: AccountPatch): Account {
    return this.#s.write(() => {
      const cur = this.get(id);
      if (!cur) throw new NotFoundError(`account ${id}`);
      const oauth = p.oauth !== undefined ? p.oauth : cur.oauth;
      this.#s
        .prepare(
          `UPDATE accounts SET display_name = ?, imap_host = ?, imap_port = ?, smtp_host = ?, smtp_port = ?,
             security = ?, smtp_security = ?, username = ?, provider_password = ?, oauth = ?, ca_pem = ?, settings = ?
           WHERE id = ?`,
        )
        .run(
          p.displayName ?? cur.displayName,
          (p.imap ?? cur.imap).host,
          (p.imap ?? cur.imap).port,
          (p.smtp ?? cur.smtp).host,
          (p.smtp ?? cur.smtp).port,
          p.security ?? cur.security,
          p.smtpSecurity !== undefined ? p.smtpSecurity : cur.smtpSecurity,
          p.username ?? cur.username,
          p.providerPassword ?? cur.providerPassword,
          oauth ? JSON.stringify(oauth) : null,
          p.caPem !== undefined ? p.caPem : cur.caPem,
          JSON.stringify(p.settings ?? cur.settings),
          id,
        );
      return this.get(id)!;
    });
  }

  /**
   * Signs the account out keeping its local mail: the provider password and OAuth tokens are
   * deleted; folders, messages, flags, remote mappings, waiting local changes and the outbox stay.
   */
  signOut(id: number): Account {
    return this.#s.write(() => {
      const cur = this.get(id);
      if (!cur) throw new NotFoundError(`account ${id}`);
      if (cur.signedOutAt === null) {
        this.#s
          .prepare(`UPDATE accounts SET provider_password = '', oauth = NULL, signed_out_at = ? WHERE id = ?`)
          .run(Date.now(), id);
        this.#s.emit({ type: 'account-signed-out', accountId: id, email: cur.email });
      }
      return this.get(id)!;
    });
  }

  /** Attaches a signed-out account again with new credentials (and servers): `update`, signed in. */
  signIn(id: number, p: AccountPatch): Account {
    return this.#s.write(() => {
      const cur = this.update(id, p);
      this.#s.prepare('UPDATE accounts SET signed_out_at = NULL WHERE id = ?').run(id);
      this.#s.emit({ type: 'account-signed-in', accountId: id, email: cur.email });
      return this.get(id)!;
    });
  }

  /** Deletes the account and everything local to it (mailboxes, messages, outbox, sync state). */
  remove(id: number): void {
    this.#s.write(() => {
      const cur = this.get(id);
      if (!cur) throw new NotFoundError(`account ${id}`);
      const boxes = this.#s
        .prepare<{ id: number; name: string }>(
          'SELECT id, name FROM mailboxes WHERE account_id = ? ORDER BY name DESC',
        )
        .all(id);
      // children first (parent_id is ON DELETE RESTRICT)
      for (const b of boxes) {
        this.#s.prepare('DELETE FROM messages WHERE mailbox_id = ?').run(b.id);
        this.#s.prepare('DELETE FROM mailboxes WHERE id = ?').run(b.id);
        this.#s.emit({ type: 'mailbox-deleted', accountId: id, mailboxId: b.id, name: b.name });
      }
      this.#s.prepare('DELETE FROM accounts WHERE id = ?').run(id);
      this.#s.emit({ type: 'account-removed', accountId: id, email: cur.email });
    });
  }
}
