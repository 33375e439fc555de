/**
 * S/MIME certificates (issue 19) over the store's SmimeRepo: the user's own certificates with their
 * private keys (PKCS#12 import, or issued under the installation's own root and intermediate CA,
 * whose keys are kept too), correspondents' certificates (imported, or learned from their
 * signed mail), and the trust anchors (certificates the user trusts, plus the system's roots).
 * `material(sender)` is what app/crypto needs to read one message.
 */
import { createHash } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { UserError } from '../shared/errors.ts';
import {
  canEncryptTo,
  certFacts,
  chainOf,
  crlFacts,
  parseCertificate,
  revokedAt,
  type CertFacts,
  type SmimeIdentity,
  type SmimeMaterial,
} from '../crypto/smime.ts';
import { AES256_GCM_OID, type SmimeSigner } from '../crypto/smime-write.ts';
import { Pkcs12Error, readPkcs12, writePkcs12 } from '../crypto/pkcs12.ts';
import type { IssueAlgorithm, IssuedCertificate } from '../crypto/smime-issue.ts';
import type { SmimeCertRow, SmimeCertSource, SmimeIdentityRow, SmimeRepo } from '../store/repos/smime.ts';
import type { CertificateSummary, CertificateWarning, CrlSummary } from './types.ts';

/** Loaded at the first certificate issued: it brings @peculiar/x509 and its ASN.1 schemas (~180 modules), which a bridge that only syncs and serves never needs (bench/million.ts 20k: 129 -> 125 MB RSS when serving starts; the peak does not move). */
const smimeIssue = () => import('../crypto/smime-issue.ts');

export type { CertificateSummary, CertificateWarning, CrlSummary } from './types.ts';

export interface SmimeOptions {
  repo: SmimeRepo;
  now?: () => number;
  /** Use the system's (Node's Mozilla) root certificates as trust anchors too (default true). */
  systemRoots?: boolean;
}

export interface ImportedIdentity {
  fingerprint: string;
  emails: string[];
  subject: string;
  notAfter: string;
  /** certificates of the chain stored beside it */
  chain: number;
}

/** A certificate mail can be encrypted to, for outgoing S/MIME. */
export interface RecipientCertificate {
  fingerprint: string;
  certDer: Uint8Array;
  /** its holder announced AES-256-GCM (SMIMECapabilities of their signed mail; our own certificates) */
  gcm: boolean;
}

/** The user's certificate and key to sign mail from an address, with its chain. */
export interface OwnSigner extends SmimeSigner {
  fingerprint: string;
  /** the user's own certificate as a recipient (the Sent copy), when it can be encrypted to */
  self: RecipientCertificate | null;
}

const PEM_CRL = /-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]+?)-----END X509 CRL-----/g;
const PEM_CERT = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;

/** DER certificates from PEM text (any number) or one DER certificate. */
export function certificatesIn(input: string | Uint8Array): Uint8Array[] {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  const pems = [...text.matchAll(PEM_CERT)].map(
    (m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')),
  );
  if (pems.length) return pems;
  if (typeof input !== 'string') return [input];
  throw new UserError('bad-certificate', 'no certificate found (PEM or DER expected)');
}

let systemRootsDer: Uint8Array[] | null = null;
function systemRoots(): Uint8Array[] {
  systemRootsDer ??= rootCertificates.flatMap((pem) => certificatesIn(pem));
  return systemRootsDer;
}

export class SmimeCertificates {
  readonly #repo: SmimeRepo;
  readonly #now: () => number;
  readonly #systemRoots: boolean;

  constructor(o: SmimeOptions) {
    this.#repo = o.repo;
    this.#now = o.now ?? Date.now;
    this.#systemRoots = o.systemRoots ?? true;
  }

  /**
   * Imports the user's certificate and private key from PKCS#12 bytes; the other certificates of
   * the file (its chain) are kept too, trusted as anchors only when `trustChain` says so.
   */
  async importPkcs12(
    bytes: Uint8Array,
    passphrase: string,
    opts: { trustChain?: boolean } = {},
  ): Promise<ImportedIdentity> {
    let p12;
    try {
      p12 = await readPkcs12(bytes, passphrase);
    } catch (err) {
      if (err instanceof Pkcs12Error) throw new UserError(err.code, err.message);
      throw err;
    }
    const facts = safeFacts(p12.certificate);
    const now = this.#now();
    this.#repo.putIdentity({
      fingerprint: facts.fingerprint,
      certDer: p12.certificate,
      keyPkcs8: p12.privateKey,
      emails: facts.emails,
      subject: facts.subject,
      notAfter: facts.notAfter,
      createdAt: now,
    });
    for (const der of p12.chain) this.#put(der, 'own-chain', opts.trustChain === true, now);
    return {
      fingerprint: facts.fingerprint,
      emails: facts.emails,
      subject: facts.subject,
      notAfter: new Date(facts.notAfter).toISOString(),
      chain: p12.chain.length,
    };
  }

  /** Imports certificates (PEM, or one DER): a correspondent's, or a CA to trust (`trusted`). */
  importCertificates(input: string | Uint8Array, opts: { trusted?: boolean } = {}): CertificateSummary[] {
    const now = this.#now();
    const fprs = new Set(
      certificatesIn(input).map((der) => this.#put(der, 'imported', opts.trusted === true, now).fingerprint),
    );
    // as now held (a certificate held before keeps its source; trust is only raised here)
    return this.list().certificates.filter((c) => fprs.has(c.fingerprint));
  }

  /**
   * Imports what a file holds: PEM or DER certificates (a correspondent's, or a CA when `trusted`),
   * else a PKCS#12 with the user's certificate and key (code 'passphrase-required' when it needs a
   * passphrase that was not given, 'bad-passphrase' when it is wrong).
   */
  async importFile(
    bytes: Uint8Array,
    opts: { passphrase?: string; trusted?: boolean } = {},
  ): Promise<{ own: CertificateSummary[]; certificates: CertificateSummary[]; crls?: CrlSummary[] }> {
    const text = Buffer.from(bytes).toString('latin1');
    const pemCrls = [...text.matchAll(PEM_CRL)].map(
      (m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')),
    );
    if (pemCrls.length) return { own: [], certificates: [], crls: pemCrls.map((d) => this.#putCrl(d)) };
    if (text.includes('-----BEGIN CERTIFICATE-----'))
      return { own: [], certificates: this.importCertificates(text, { trusted: opts.trusted === true }) };
    let isCert = false;
    try {
      certFacts(bytes);
      isCert = true;
    } catch {
      // not one DER certificate: PKCS#12 then
    }
    if (isCert)
      return { own: [], certificates: this.importCertificates(bytes, { trusted: opts.trusted === true }) };
    let isCrl = false;
    try {
      crlFacts(bytes);
      isCrl = true;
    } catch {
      // not a DER CRL either
    }
    if (isCrl) return { own: [], certificates: [], crls: [this.#putCrl(bytes)] };
    let id: ImportedIdentity;
    try {
      id = await this.importPkcs12(bytes, opts.passphrase ?? '', { trustChain: opts.trusted === true });
    } catch (err) {
      if (opts.passphrase === undefined && err instanceof UserError && err.code === 'bad-passphrase')
        throw new UserError('passphrase-required', 'the PKCS#12 file is protected by a passphrase');
      throw err;
    }
    const own = this.list().own.filter((o) => o.fingerprint === id.fingerprint);
    return { own, certificates: [] };
  }

  /**
   * Issues an S/MIME certificate for `email` the way mail relays do (crypto/smime-issue.ts): signed
   * by this installation's intermediate CA, itself signed by its root CA — both made on the first
   * issue and reused for every address after (so the user installs and trusts one root on each
   * device); a new intermediate (or root) is made only when the held one would end before the new
   * certificate. The root is kept as a trusted anchor (Lockbridge trusts its own issued mail), the
   * intermediate as the chain; the certificate is kept with its key as the user's own ('issued'):
   * it signs mail from that address and opens mail encrypted to it.
   */
  async issue(email: string, algorithm: IssueAlgorithm = 'rsa'): Promise<CertificateSummary> {
    const addr = email.toLowerCase();
    const now = this.#now();
    const intermediate = await this.#issuingCa(algorithm, now);
    const { issueSmimeCertificate } = await smimeIssue();
    const made = await issueSmimeCertificate({
      email: addr,
      algorithm,
      now: new Date(now),
      issuer: intermediate,
    });
    const facts = safeFacts(made.certificate);
    this.#repo.putIdentity({
      fingerprint: facts.fingerprint,
      certDer: made.certificate,
      keyPkcs8: made.privateKey,
      emails: facts.emails,
      subject: facts.subject,
      notAfter: facts.notAfter,
      createdAt: now,
      origin: 'issued',
    });
    const own = this.list().own.find((o) => o.fingerprint === facts.fingerprint);
    if (!own) throw new Error('issued certificate not found in the store');
    return own;
  }

  /**
   * The installation's intermediate CA (certificate and key) valid for a whole new user
   * certificate; made (with a root when the held root would not outlive it) when there is none.
   */
  async #issuingCa(algorithm: IssueAlgorithm, now: number): Promise<IssuedCertificate> {
    const { ISSUED_LIFETIME_DAYS, issueCa } = await smimeIssue();
    const needed = now + ISSUED_LIFETIME_DAYS * 86_400_000;
    const cas = this.#repo.caIdentities().map((c) => ({ row: c, facts: safeFacts(c.certDer) }));
    const valid = (c: { facts: CertFacts }, until: number) =>
      c.facts.notBefore <= now && c.facts.notAfter >= until;
    const intermediate = cas
      .filter((c) => !isSelfIssued(c.row.certDer) && valid(c, needed))
      .sort((a, b) => b.facts.notAfter - a.facts.notAfter)[0];
    if (intermediate) return { certificate: intermediate.row.certDer, privateKey: intermediate.row.keyPkcs8 };
    const root = cas
      .filter((c) => isSelfIssued(c.row.certDer) && valid(c, needed + 365 * 86_400_000))
      .sort((a, b) => b.facts.notAfter - a.facts.notAfter)[0];
    const made = await issueCa({
      algorithm,
      now: new Date(now),
      ...(root ? { root: { certificate: root.row.certDer, privateKey: root.row.keyPkcs8 } } : {}),
    });
    for (const [ca, trusted] of [
      [made.root, true],
      [made.intermediate, false],
    ] as const) {
      const f = safeFacts(ca.certificate);
      this.#repo.putIdentity({
        fingerprint: f.fingerprint,
        certDer: ca.certificate,
        keyPkcs8: ca.privateKey,
        emails: [],
        subject: f.subject,
        notAfter: f.notAfter,
        createdAt: now,
        origin: 'ca',
      });
      // the root is an anchor Lockbridge trusts; the intermediate travels as the chain
      this.#put(ca.certificate, 'own-chain', trusted, now);
    }
    return made.intermediate;
  }

  /**
   * The user's own certificate named by its SHA-256 fingerprint, or by an address (the newest
   * one naming it); code 'not-found' when there is none.
   */
  #ownIdentity(ref: string): SmimeIdentityRow {
    const ids = this.#repo.identities();
    const found = FINGERPRINT.test(ref)
      ? ids.find((i) => i.fingerprint === ref.toUpperCase())
      : ids
          .filter((i) => i.emails.includes(ref.toLowerCase()))
          .sort((a, b) => b.notAfter - a.notAfter || b.createdAt - a.createdAt)[0];
    if (!found) throw new UserError('not-found', `no own S/MIME certificate for ${ref}`);
    return found;
  }

  /**
   * The user's certificate (by fingerprint or address) with its private key and chain as a
   * PKCS#12 file protected by `passphrase`, for other mail clients.
   */
  async exportPkcs12(ref: string, passphrase: string): Promise<Uint8Array> {
    if (!passphrase)
      throw new UserError('passphrase-required', 'a passphrase is needed to export a private key');
    const id = this.#ownIdentity(ref);
    const pool = this.#repo
      .allCertificates()
      .filter((c) => c.source === 'own-chain')
      .map((c) => c.certDer);
    return writePkcs12(
      {
        certificate: id.certDer,
        privateKey: id.keyPkcs8,
        chain: chainOf(id.certDer, pool),
        friendlyName: id.emails[0] ?? id.subject,
      },
      passphrase,
    );
  }

  /**
   * A certificate as PEM, no private key: the user's own (by fingerprint or address, followed by
   * its chain as held) or any other held one (by fingerprint).
   */
  exportPem(ref: string): string {
    let ders: Uint8Array[];
    const other = FINGERPRINT.test(ref)
      ? this.#repo.allCertificates().find((c) => c.fingerprint === ref.toUpperCase())
      : undefined;
    if (other && !this.#repo.identities().some((i) => i.fingerprint === other.fingerprint))
      ders = [other.certDer];
    else {
      const id = this.#ownIdentity(ref);
      const pool = this.#repo
        .allCertificates()
        .filter((c) => c.source === 'own-chain')
        .map((c) => c.certDer);
      ders = [id.certDer, ...chainOf(id.certDer, pool)];
    }
    return ders.map(pem).join('');
  }

  setTrusted(fingerprint: string, trusted: boolean): void {
    if (!this.#repo.setTrusted(fingerprint.toUpperCase(), trusted))
      throw new UserError('not-found', `certificate ${fingerprint} not found`);
  }

  /**
   * Learns the signer certificate of a validly signed S/MIME message for the sender's address —
   * only when the certificate names that address (a certificate is never filed under another).
   */
  learn(sender: string, certificateB64: string, capabilities?: readonly string[]): boolean {
    const der = new Uint8Array(Buffer.from(certificateB64, 'base64'));
    const facts = safeFacts(der);
    if (!facts.emails.includes(sender.toLowerCase())) return false;
    this.#repo.putCertificate({
      ...row(facts, der, 'learned', false),
      emails: [sender.toLowerCase()],
      seenAt: this.#now(),
      ...(capabilities ? { capabilities: [...capabilities] } : {}),
    });
    return true;
  }

  /**
   * Takes certificates found for `email` in the user's S/MIME directory (smime-directory.ts),
   * checked as a held certificate is before mail is encrypted to it: it names the address (SAN,
   * or the subject's emailAddress when the SAN has none), is within its validity period, can be
   * encrypted to (crypto's canEncryptTo: not a CA's, key usage and extended key usage allow it),
   * and no CRL at hand (imported) revokes it or a CA above it. Like a certificate the user imports
   * it need not chain to a trusted CA: the directory is one the user chose. Those that pass are
   * kept as correspondents' certificates with source 'directory'; the one to encrypt to is
   * returned (recipientCertificate's choice), with why the others were left.
   */
  async fromDirectory(
    email: string,
    ders: readonly Uint8Array[],
  ): Promise<{ certificate: RecipientCertificate | null; rejected: string[] }> {
    const addr = email.toLowerCase();
    const now = this.#now();
    const rejected: string[] = [];
    const crls = this.#repo.crls();
    const pool = crls.length ? this.#repo.allCertificates().map((c) => c.certDer) : [];
    for (const der of ders) {
      let f: CertFacts;
      try {
        f = certFacts(der);
      } catch {
        rejected.push('not an X.509 certificate');
        continue;
      }
      const why = !f.emails.includes(addr)
        ? `it names ${f.emails.join(', ') || 'no address'}, not ${addr}`
        : f.notBefore > now
          ? `not valid before ${new Date(f.notBefore).toISOString()}`
          : f.notAfter <= now
            ? `expired on ${new Date(f.notAfter).toISOString()}`
            : !canEncryptTo(der)
              ? 'it cannot be encrypted to'
              : crls.length && (await revokedAt(der, pool, crls, now)) !== null
                ? 'revoked'
                : null;
      if (why) {
        rejected.push(`${f.fingerprint.slice(0, 16)}: ${why}`);
        continue;
      }
      this.#repo.putCertificate({ ...row(f, der, 'directory', false), emails: [addr], seenAt: now });
    }
    return { certificate: await this.recipientCertificate(addr), rejected };
  }

  /**
   * The certificate to encrypt mail to `email`: a held certificate (learned from the person's
   * validly signed mail, imported by the user, or found in the directory) filed under the address,
   * within its validity period, able to encrypt (crypto's canEncryptTo: not a CA's) and revoked by
   * no CRL the user imported (it or a CA above it) — the newest such; for one of the user's own
   * addresses their own certificate. Null when there is none.
   */
  async recipientCertificate(email: string): Promise<RecipientCertificate | null> {
    const own = this.signerFor(email)?.self;
    if (own) return own;
    const now = this.#now();
    const crls = this.#repo.crls();
    const pool = crls.length ? this.#repo.allCertificates().map((c) => c.certDer) : [];
    for (const c of this.#repo.certificatesFor(email)) {
      if (c.source === 'own-chain') continue;
      const f = certFacts(c.certDer);
      if (f.notBefore > now || f.notAfter <= now || !canEncryptTo(c.certDer)) continue;
      if (crls.length && (await revokedAt(c.certDer, pool, crls, now)) !== null) continue;
      return {
        fingerprint: c.fingerprint,
        certDer: c.certDer,
        gcm: c.capabilities?.includes(AES256_GCM_OID) ?? false,
      };
    }
    return null;
  }

  /** The user's certificate and key for mail from `email` (the newest valid one naming it), or null. */
  signerFor(email: string): OwnSigner | null {
    const now = this.#now();
    const addr = email.toLowerCase();
    const ids = this.#repo
      .identities()
      .filter((i) => i.emails.includes(addr) && i.notAfter > now && certFacts(i.certDer).notBefore <= now)
      .sort((a, b) => b.notAfter - a.notAfter);
    const id = ids[0];
    if (!id) return null;
    const pool = this.#repo
      .allCertificates()
      .filter((c) => c.source === 'own-chain')
      .map((c) => c.certDer);
    return {
      fingerprint: id.fingerprint,
      certificate: id.certDer,
      privateKey: id.keyPkcs8,
      chain: chainOf(id.certDer, pool),
      // we read AES-256-GCM ourselves
      self: canEncryptTo(id.certDer) ? { fingerprint: id.fingerprint, certDer: id.certDer, gcm: true } : null,
    };
  }

  /**
   * The user's own certificates that have expired or expire within `days` (default 30) — unless
   * every address they name has another own certificate valid beyond that — soonest first.
   */
  expiryWarnings(days = 30): CertificateWarning[] {
    const now = this.#now();
    const horizon = now + days * 86_400_000;
    const ids = this.#repo.identities();
    const covered = (email: string, except: string) =>
      ids.some((o) => o.fingerprint !== except && o.emails.includes(email) && o.notAfter > horizon);
    return ids
      .filter(
        (i) =>
          i.notAfter <= horizon && !(i.emails.length && i.emails.every((e) => covered(e, i.fingerprint))),
      )
      .sort((a, b) => a.notAfter - b.notAfter)
      .map((i) => ({
        fingerprint: i.fingerprint,
        emails: i.emails,
        notAfter: new Date(i.notAfter).toISOString(),
        expired: i.notAfter <= now,
        daysLeft: Math.max(0, Math.floor((i.notAfter - now) / 86_400_000)),
      }));
  }

  identities(): SmimeIdentityRow[] {
    return this.#repo.identities();
  }

  /** What app/crypto needs to read a message from `sender` (null: unknown or several senders). */
  material(sender: string | null, opts: { systemRoots?: boolean } = {}): SmimeMaterial {
    const identities: SmimeIdentity[] = this.#repo
      .identities()
      .map((i) => ({ certificate: i.certDer, privateKey: i.keyPkcs8 }));
    const known = sender ? this.#repo.certificatesFor(sender) : [];
    const anchors = this.#repo.trustAnchors().map((c) => c.certDer);
    return {
      identities,
      knownCertificates: known.map((c) => c.certDer),
      trustAnchors:
        this.#systemRoots && opts.systemRoots !== false ? [...anchors, ...systemRoots()] : anchors,
      firstContact: Boolean(sender) && known.length === 0,
      now: this.#now(),
      crls: this.#repo.crls(),
    };
  }

  list(): { own: CertificateSummary[]; certificates: CertificateSummary[] } {
    const now = this.#now();
    return {
      own: this.#repo.identities().map((i) => ({
        fingerprint: i.fingerprint,
        subject: i.subject,
        issuer: safeFacts(i.certDer).issuer,
        emails: i.emails,
        notAfter: new Date(i.notAfter).toISOString(),
        expired: i.notAfter < now,
        isCa: false,
        trusted: false,
        source: i.origin === 'issued' ? ('issued' as const) : ('imported' as const),
      })),
      certificates: this.#repo.allCertificates().map((c) => summary(safeFacts(c.certDer), c, now, c.emails)),
    };
  }

  #putCrl(der: Uint8Array): CrlSummary {
    let f: ReturnType<typeof crlFacts>;
    try {
      f = crlFacts(der);
    } catch {
      throw new UserError('bad-certificate', 'not a certificate revocation list');
    }
    this.#repo.putCrl(
      createHash('sha256').update(der).digest('hex').toUpperCase(),
      der,
      f.issuer,
      this.#now(),
    );
    return {
      issuer: f.issuer,
      thisUpdate: new Date(f.thisUpdate).toISOString(),
      ...(f.nextUpdate !== undefined ? { nextUpdate: new Date(f.nextUpdate).toISOString() } : {}),
      revoked: f.revoked,
    };
  }

  #put(der: Uint8Array, source: SmimeCertSource, trusted: boolean, now: number): CertFacts {
    const facts = safeFacts(der);
    this.#repo.putCertificate({ ...row(facts, der, source, trusted), seenAt: now });
    return facts;
  }
}

const FINGERPRINT = /^[0-9A-Fa-f]{64}$/;

function isSelfIssued(der: Uint8Array): boolean {
  const c = parseCertificate(der);
  return c.issuer.isEqual(c.subject);
}

function pem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

function safeFacts(der: Uint8Array): CertFacts {
  try {
    return certFacts(der);
  } catch {
    throw new UserError('bad-certificate', 'not an X.509 certificate');
  }
}

function row(
  f: CertFacts,
  der: Uint8Array,
  source: SmimeCertSource,
  trusted: boolean,
): Omit<SmimeCertRow, 'firstSeen' | 'lastSeen' | 'capabilities'> {
  return {
    fingerprint: f.fingerprint,
    certDer: der,
    subject: f.subject,
    isCa: f.isCa,
    trusted,
    source,
    notAfter: f.notAfter,
    emails: f.emails,
  };
}

function summary(
  f: CertFacts,
  c: { trusted: boolean; source: SmimeCertSource },
  now: number,
  emails: string[] = f.emails,
): CertificateSummary {
  return {
    fingerprint: f.fingerprint,
    subject: f.subject,
    issuer: f.issuer,
    emails,
    notAfter: new Date(f.notAfter).toISOString(),
    expired: f.notAfter < now,
    isCa: f.isCa,
    trusted: c.trusted,
    source: c.source,
  };
}
