/**
 * The user's LDAP directory of S/MIME certificates (issue 19; setting `smimeDirectory`), asked at
 * send time for the recipients we hold no usable certificate for. One connection per submission
 * (ldapts, over ldap:// or ldaps://; the server's certificate is always verified, against the
 * setting's `caPem` when one is set — a directory with an internal CA — else the system's roots), a bind when a bind DN is set (its password from the store),
 * then per recipient a subtree search under the base DN for `(mail=ADDRESS)` — the address escaped
 * as RFC 4515 says (ldapts' escapeFilter: `*`, `(`, `)`, `\` and NUL become `\2a` …), so an
 * address cannot widen the filter — asking for `userCertificate;binary` and
 * `userSMIMECertificate` and taking the userCertificate values. What comes back is checked and
 * kept by SmimeCertificates.fromDirectory like any held certificate.
 *
 * The whole lookup is bounded by the setting's `timeoutMs`: a directory that is down, refuses or
 * does not answer in time is logged (a warning naming the directory and why) and remembered for
 * `status`, and the message goes on by the usual policy without its certificates (those it
 * answered for before the deadline are used). Nothing here holds the event loop for long: the
 * network is asynchronous, and the certificates found are checked and stored one address per turn.
 *
 * Misses are remembered: an address the directory answered for with no certificate is not asked
 * again for MISS_TTL_MS (an hour), so mail to people outside the organisation does not search (and,
 * when the directory is slow, wait) on every send. The memory is bounded (MISS_LIMIT addresses, the
 * least recently asked forgotten first), lives only in this process, and is forgotten when the
 * setting changes. Only an answer counts: addresses a lookup never got to (directory down, bind
 * refused, deadline passed) are asked again next time.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Client, escapeFilter } from 'ldapts';
import type { DirectorySettings } from '../config/settings.ts';
import type { Logger } from '../shared/logger.ts';
import type { RecipientCertificate, SmimeCertificates } from './smime.ts';

/** The last lookup: when, whether the directory answered, and what came of it (for status). */
export interface DirectoryLookup {
  at: number;
  ok: boolean;
  detail: string;
}

export interface CertificateDirectoryOptions {
  smime: SmimeCertificates;
  /** The setting as it is now (null: no directory). */
  settings: () => DirectorySettings | null;
  /** The bind password kept in the store (null: none). */
  password: () => string | null;
  logger: Logger;
  now?: () => number;
}

/** Entries asked for per address, at most (a directory answering more is not searched further). */
const SIZE_LIMIT = 20;
/** How long an address the directory has no certificate for is not asked again. */
const MISS_TTL_MS = 3600_000;
/** Addresses remembered as misses, at most (the least recently asked are forgotten first). */
const MISS_LIMIT = 10_000;

export class CertificateDirectory {
  readonly #o: CertificateDirectoryOptions;
  readonly #log: Logger;
  #last: DirectoryLookup | null = null;
  /** address → when the directory said it has no certificate for it (insertion order: LRU first) */
  readonly #misses = new Map<string, number>();
  /** the setting the misses were answered under */
  #missesFor = '';

  constructor(o: CertificateDirectoryOptions) {
    this.#o = o;
    this.#log = o.logger.child({ module: 'smime-directory' });
  }

  get lastLookup(): DirectoryLookup | null {
    return this.#last;
  }

  /**
   * The certificates to encrypt to for `emails`, found in the directory and checked (addresses with
   * none are left out). Never throws and never takes longer than the setting's timeoutMs (plus the
   * checks); an empty map when no directory is set.
   */
  async find(emails: readonly string[]): Promise<Map<string, RecipientCertificate>> {
    const conf = this.#o.settings();
    const out = new Map<string, RecipientCertificate>();
    if (!conf || !emails.length) return out;
    const now = this.#o.now ?? Date.now;
    const missesFor = JSON.stringify(conf);
    const known = this.#knownMisses(missesFor, emails, now());
    if (known.size) {
      this.#log.debug({ directory: conf.url, skipped: known.size }, 'S/MIME directory misses remembered');
      if (known.size === emails.length) return out;
      emails = emails.filter((e) => !known.has(e));
    }
    const started = Date.now();
    const client = new Client({
      url: conf.url,
      timeout: conf.timeoutMs,
      connectTimeout: conf.timeoutMs,
      ...(conf.caPem ? { tlsOptions: { ca: conf.caPem } } : {}),
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), conf.timeoutMs);
    });
    // what the directory answered so far: on a timeout the addresses it answered for still count
    const found = new Map<string, Uint8Array[]>();
    const work = this.#search(client, conf, emails, found);
    // an answer after the deadline (or a late failure) is dropped
    work.catch(() => {});
    let failure: string | null = null;
    try {
      if ((await Promise.race([work, deadline])) === 'timeout')
        failure = `no answer within ${conf.timeoutMs} ms (${found.size} of ${emails.length} addresses answered)`;
    } catch (err) {
      failure = describe(err);
    } finally {
      clearTimeout(timer);
      client.unbind().catch(() => {});
    }
    const rejected: string[] = [];
    try {
      for (const [email, ders] of found) {
        if (!ders.length) {
          this.#rememberMiss(missesFor, email, now());
          continue;
        }
        // one address per turn of the event loop (a certificate is parsed, checked and stored: ~3 ms)
        await nextTurn();
        const r = await this.#o.smime.fromDirectory(email, ders);
        if (r.certificate) out.set(email, r.certificate);
        for (const why of r.rejected) rejected.push(`${email}: ${why}`);
      }
    } catch (err) {
      failure ??= `the certificates found could not be kept: ${describe(err)}`;
    }
    const ms = Date.now() - started;
    if (failure) {
      this.#last = { at: now(), ok: false, detail: failure };
      this.#log.warn(
        { directory: conf.url, recipients: emails.length, found: out.size, ms, error: failure },
        'S/MIME directory unreachable: the message goes by the usual policy without its certificates',
      );
      return out;
    }
    const detail = `${out.size} of ${emails.length} certificate${emails.length === 1 ? '' : 's'} found`;
    this.#last = { at: now(), ok: true, detail };
    this.#log.info(
      {
        directory: conf.url,
        asked: emails.length,
        found: out.size,
        ms,
        ...(rejected.length ? { rejected: rejected.join('; ') } : {}),
      },
      'S/MIME directory looked up',
    );
    return out;
  }

  /**
   * The addresses of `emails` the directory said it has no certificate for within MISS_TTL_MS
   * (under this same setting), each marked as just asked; the memory is emptied when the setting
   * changed and expired entries are dropped.
   */
  #knownMisses(key: string, emails: readonly string[], at: number): Set<string> {
    if (key !== this.#missesFor) {
      this.#misses.clear();
      this.#missesFor = key;
    }
    const known = new Set<string>();
    for (const email of emails) {
      const since = this.#misses.get(email);
      if (since === undefined) continue;
      this.#misses.delete(email);
      if (at - since >= MISS_TTL_MS) continue;
      this.#misses.set(email, since); // most recently asked last
      known.add(email);
    }
    return known;
  }

  /** Remembers that the directory (under setting `key`) has no certificate for `email`. */
  #rememberMiss(key: string, email: string, at: number): void {
    if (key !== this.#missesFor) return; // the setting changed during the lookup
    this.#misses.delete(email);
    this.#misses.set(email, at);
    for (const oldest of this.#misses.keys()) {
      if (this.#misses.size <= MISS_LIMIT) break;
      this.#misses.delete(oldest);
    }
  }

  /**
   * Binds when a bind DN is set, then searches for each address in turn on the one connection
   * (ldapts opens a connection per operation started before the first one connected, so they are
   * not started together), recording each answer in `found` as it comes.
   */
  async #search(
    client: Client,
    conf: DirectorySettings,
    emails: readonly string[],
    found: Map<string, Uint8Array[]>,
  ): Promise<void> {
    if (conf.bindDn) await client.bind(conf.bindDn, this.#o.password() ?? '');
    for (const email of emails) {
      const { searchEntries } = await client.search(conf.baseDn, {
        scope: 'sub',
        filter: escapeFilter`(mail=${email})`,
        attributes: ['userCertificate;binary', 'userSMIMECertificate'],
        explicitBufferAttributes: ['userCertificate;binary', 'userCertificate', 'userSMIMECertificate'],
        sizeLimit: SIZE_LIMIT,
        timeLimit: Math.max(1, Math.ceil(conf.timeoutMs / 1000)),
      });
      const ders: Uint8Array[] = [];
      for (const entry of searchEntries)
        for (const [name, value] of Object.entries(entry))
          if (/^usercertificate(?:;binary)?$/i.test(name))
            for (const v of Array.isArray(value) ? value : [value])
              if (Buffer.isBuffer(v) && v.length) ders.push(new Uint8Array(v));
      found.set(email, ders);
    }
  }
}

/** TLS errors of a certificate that does not chain to a trusted CA (node:tls codes). */
const UNTRUSTED =
  /^(?:SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(?:_LOCALLY)?)$/;

/**
 * One line for the log and status: the LDAP result or the network error, no secrets; a directory
 * certificate no trusted CA vouches for says how to trust it.
 */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const line =
    code !== undefined && !err.message.includes(String(code))
      ? `${err.message} (${String(code)})`
      : err.message;
  // (Node's own advice there, running it with --use-system-ca, is not the user's to follow)
  return typeof code === 'string' && UNTRUSTED.test(code)
    ? `${line.replace(/; if the root CA is installed locally.*?(?= \(|$)/, '')}: the directory's TLS certificate is not from a trusted CA (set its CA: setting smimeDirectory.caPem, lockbridge certs directory --ca-file)`
    : line;
}
