/**
 * S/MIME certificate storage (tables smime_identities, smime_certs, smime_cert_addresses; migration
 * 0010; imported CRLs in smime_crls, migration 0018) for app/keys/smime.ts. Certificates are keyed
 * by the SHA-256 fingerprint of their DER.
 */
import type { StoreDb } from '../sql.ts';

/** Where a correspondent's certificate came from; 'directory': the user's LDAP directory, at send time. */
export type SmimeCertSource = 'imported' | 'learned' | 'directory' | 'own-chain';

/** Where one of the user's certificates with a key came from (migration 0016). */
export type SmimeIdentityOrigin = 'imported' | 'issued' | 'ca';

export interface SmimeIdentityRow {
  fingerprint: string;
  certDer: Uint8Array;
  keyPkcs8: Uint8Array;
  /** lowercase addresses the certificate names */
  emails: string[];
  subject: string;
  notAfter: number;
  createdAt: number;
  /** default 'imported' */
  origin?: SmimeIdentityOrigin;
}

export interface SmimeCertRow {
  fingerprint: string;
  certDer: Uint8Array;
  subject: string;
  isCa: boolean;
  /** a trust anchor the user chose */
  trusted: boolean;
  source: SmimeCertSource;
  notAfter: number;
  firstSeen: number;
  lastSeen: number;
  /** lowercase addresses it is filed under */
  emails: string[];
  /** the SMIMECapabilities (algorithm OIDs) last announced with it; null: never seen */
  capabilities: string[] | null;
}

interface CertDbRow {
  fingerprint: string;
  cert_der: Uint8Array;
  subject: string;
  is_ca: number;
  trusted: number;
  source: SmimeCertSource;
  not_after: number;
  first_seen: number;
  last_seen: number;
  capabilities: string | null;
}

interface IdentityDbRow {
  fingerprint: string;
  cert_der: Uint8Array;
  key_pkcs8: Uint8Array;
  emails: string;
  subject: string;
  not_after: number;
  created_at: number;
  origin: SmimeIdentityOrigin;
}

export class SmimeRepo {
  readonly #s: StoreDb;
  constructor(s: StoreDb) {
    this.#s = s;
  }

  putIdentity(row: SmimeIdentityRow): void {
    this.#s.write(() =>
      this.#s
        .prepare(
          `INSERT INTO smime_identities (fingerprint, cert_der, key_pkcs8, emails, subject, not_after, created_at, origin)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(fingerprint) DO UPDATE SET key_pkcs8 = excluded.key_pkcs8`,
        )
        .run(
          row.fingerprint,
          Buffer.from(row.certDer),
          Buffer.from(row.keyPkcs8),
          row.emails.join(' '),
          row.subject,
          Math.trunc(row.notAfter),
          Math.trunc(row.createdAt),
          row.origin ?? 'imported',
        ),
    );
  }

  /** The user's certificates with their keys for mail (imported or issued; not the CAs). */
  identities(): SmimeIdentityRow[] {
    return this.#identities("origin <> 'ca'");
  }

  /** The installation's own CA certificates with their keys (origin 'ca'), oldest first. */
  caIdentities(): SmimeIdentityRow[] {
    return this.#identities("origin = 'ca'");
  }

  #identities(where: string): SmimeIdentityRow[] {
    return this.#s
      .prepare<IdentityDbRow>(
        `SELECT fingerprint, cert_der, key_pkcs8, emails, subject, not_after, created_at, origin
         FROM smime_identities WHERE ${where} ORDER BY created_at, fingerprint`,
      )
      .all()
      .map((r: IdentityDbRow) => ({
        fingerprint: r.fingerprint,
        certDer: new Uint8Array(r.cert_der),
        keyPkcs8: new Uint8Array(r.key_pkcs8),
        emails: r.emails ? r.emails.split(' ') : [],
        subject: r.subject,
        notAfter: r.not_after,
        createdAt: r.created_at,
        origin: r.origin,
      }));
  }

  deleteIdentity(fingerprint: string): boolean {
    return this.#s.write(
      () =>
        this.#s.prepare('DELETE FROM smime_identities WHERE fingerprint = ?').run(fingerprint).changes > 0,
    );
  }

  /**
   * Adds a certificate (or refreshes last_seen and the addresses of one already held). `trusted`
   * is only ever raised here; `setTrusted` lowers it. Capabilities given replace those held.
   */
  putCertificate(
    row: Omit<SmimeCertRow, 'firstSeen' | 'lastSeen' | 'capabilities'> & {
      seenAt: number;
      capabilities?: string[] | null;
    },
  ): void {
    this.#s.write(() => {
      this.#s
        .prepare(
          `INSERT INTO smime_certs (fingerprint, cert_der, subject, is_ca, trusted, source, not_after, first_seen, last_seen, capabilities)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(fingerprint) DO UPDATE SET last_seen = MAX(last_seen, excluded.last_seen),
             trusted = MAX(trusted, excluded.trusted),
             capabilities = COALESCE(excluded.capabilities, capabilities)`,
        )
        .run(
          row.fingerprint,
          Buffer.from(row.certDer),
          row.subject,
          row.isCa ? 1 : 0,
          row.trusted ? 1 : 0,
          row.source,
          Math.trunc(row.notAfter),
          Math.trunc(row.seenAt),
          Math.trunc(row.seenAt),
          row.capabilities ? row.capabilities.join(' ') : null,
        );
      const add = this.#s.prepare(
        'INSERT OR IGNORE INTO smime_cert_addresses (email, fingerprint) VALUES (?, ?)',
      );
      for (const email of row.emails) add.run(email.toLowerCase(), row.fingerprint);
    });
  }

  setTrusted(fingerprint: string, trusted: boolean): boolean {
    return this.#s.write(
      () =>
        this.#s
          .prepare('UPDATE smime_certs SET trusted = ? WHERE fingerprint = ?')
          .run(trusted ? 1 : 0, fingerprint).changes > 0,
    );
  }

  deleteCertificate(fingerprint: string): boolean {
    return this.#s.write(
      () => this.#s.prepare('DELETE FROM smime_certs WHERE fingerprint = ?').run(fingerprint).changes > 0,
    );
  }

  /** Keeps an imported CRL (once per DER). */
  putCrl(fingerprint: string, der: Uint8Array, issuer: string, at: number): void {
    this.#s.write(() =>
      this.#s
        .prepare(
          'INSERT OR IGNORE INTO smime_crls (fingerprint, crl_der, issuer, imported_at) VALUES (?, ?, ?, ?)',
        )
        .run(fingerprint, Buffer.from(der), issuer, Math.trunc(at)),
    );
  }

  /** The imported CRLs (DER), oldest first. */
  crls(): Uint8Array[] {
    return this.#s
      .prepare<{ crl_der: Uint8Array }>('SELECT crl_der FROM smime_crls ORDER BY imported_at, fingerprint')
      .all()
      .map((r: { crl_der: Uint8Array }) => new Uint8Array(r.crl_der));
  }

  /** Certificates filed under `email`, newest first. */
  certificatesFor(email: string): SmimeCertRow[] {
    return this.#rows(
      `SELECT c.* FROM smime_cert_addresses a JOIN smime_certs c ON c.fingerprint = a.fingerprint
       WHERE a.email = ? ORDER BY c.not_after DESC, c.fingerprint`,
      email.toLowerCase(),
    );
  }

  trustAnchors(): SmimeCertRow[] {
    return this.#rows('SELECT * FROM smime_certs WHERE trusted = 1 ORDER BY fingerprint');
  }

  allCertificates(): SmimeCertRow[] {
    return this.#rows('SELECT * FROM smime_certs ORDER BY first_seen, fingerprint');
  }

  #rows(sql: string, ...args: unknown[]): SmimeCertRow[] {
    const emailsOf = this.#s.prepare<{ email: string }>(
      'SELECT email FROM smime_cert_addresses WHERE fingerprint = ? ORDER BY email',
    );
    return this.#s
      .prepare<CertDbRow>(sql)
      .all(...args)
      .map((r: CertDbRow) => ({
        fingerprint: r.fingerprint,
        certDer: new Uint8Array(r.cert_der),
        subject: r.subject,
        isCa: r.is_ca === 1,
        trusted: r.trusted === 1,
        source: r.source,
        notAfter: r.not_after,
        firstSeen: r.first_seen,
        lastSeen: r.last_seen,
        capabilities: r.capabilities === null ? null : r.capabilities.split(' ').filter(Boolean),
        emails: emailsOf.all(r.fingerprint).map((e: { email: string }) => e.email),
      }));
  }
}
