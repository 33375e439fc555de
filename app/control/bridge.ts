/**
 * The bridge façade: the one implementation of ControlApi, over the store, the keyring, the
 * sync engines and the servers. Electron IPC, the HTTP control server and the CLI all call this.
 * Arguments are validated here (zod), since every transport delivers untrusted JSON.
 */
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join as joinPath, resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import type {
  AccountInfo,
  AccountInput,
  OAuthCredential,
  OAuthSignInInput,
  OAuthSignInStart,
  AccountStatus,
  BridgeEvent,
  BridgeStatus,
  CertificateList,
  CertificateSummary,
  ClientCredentials,
  ControlApi,
  ExportResult,
  ImportResult,
  KeyChangeWarning,
  KeySummary,
  KeyTrust,
  LogLine,
  OutboxItem,
  ProviderSuggestion,
  RepairReport,
  ReportBundle,
  ReportOptions,
  DirectoryStatus,
  ServingSettings,
  Settings,
  SyncProgress,
} from './contract.ts';
import type { Store } from '../store/store.ts';
import type { Account, AccountPatch } from '../store/repos/accounts.ts';
import type { Keyring } from '../keys/keyring.ts';
import type { SmimeCertificates } from '../keys/smime.ts';
import { DIRECTORY_PASSWORD_KEY, mergeSettings, SETTINGS_KEY } from '../config/settings.ts';
import type { DirectoryLookup } from '../keys/smime-directory.ts';
import { NotFoundError, UserError } from '../shared/errors.ts';
import type { EventHub } from '../shared/event-hub.ts';
import type { Logger } from '../shared/logger.ts';
import type { LogRing } from '../config/logging.ts';
import { VERSION } from '../shared/version.ts';
import { thunderbirdAutoconfigXml } from './client-config.ts';
import { checkNewPassphrase, unlockMethods } from './unlock-info.ts';
import { changePassphrase as rewrapPassphrase } from '../store/store.ts';
import type { KeychainWrapper } from '../../native/keychain.ts';
import { ConflictError } from '../shared/errors.ts';
import { buildReport } from './report.ts';
import { refusedRecipients } from '../outgoing/plan.ts';
import { encryptionRequired } from '../keys/policy.ts';
import { startSignIn, type SignInFlow } from '../oauth/flow.ts';
import { randomUUID } from 'node:crypto';

/** What the façade needs from the running engine parts that may be absent (CLI one-shot mode). */
export interface BridgeRuntime {
  ports(): { imap: number | null; smtp: number | null; control: number | null };
  /**
   * Bodies evicted from the local body cache fetched back from the provider (the running sync;
   * absent in one-shot mode); resolves with the UIDs that could not be had.
   */
  fetchBodies?(accountId: number, mailboxId: number, uids: readonly number[]): Promise<{ failed: number[] }>;
  /** The start-time settings the running servers use (absent in one-shot mode). */
  serving?(): ServingSettings | null;
  /** Wakes the outbox relay (a retry the user asked for). */
  kickOutbox?(): void;
  /**
   * Puts a refused message kept in the outbox through the outgoing pipeline again (absent in
   * one-shot mode); see SubmissionAdapter.resend.
   */
  resendOutbox?(id: number, o: { withoutEncryption: boolean }): Promise<void>;
  offline: boolean;
  /** Verifies a provider login before an account is saved; throws a UserError saying what failed. */
  verifyProviderLogin(input: AccountInput): Promise<void>;
  /** Per-account sync status (absent in one-shot mode). */
  syncStatus(email: string): Omit<AccountStatus, 'email' | 'outbox' | 'pending'> | null;
  pauseSync(email: string): Promise<void>;
  resumeSync(email: string): Promise<void>;
  /** Called after an account's provider password changed: a sync blocked on its login retries now. */
  credentialsChanged(email: string): void;
  /** Re-checks the account's folders against the provider (the sync engine's repair). */
  repairAccount(account: Account): Promise<Omit<RepairReport, 'email'>>;
  /** Called after an account is added/removed so sync starts/stops. */
  accountsChanged(): void;
  /** Called after the settings changed, so running engines pick them up. */
  settingsChanged?(): void;
  importFiles(account: Account, mailbox: string, files: string[]): Promise<ImportResult>;
  discoverProvider(email: string): Promise<ProviderSuggestion | null>;
  sendSetupMessage?(email: string): Promise<{ setupCode: string }>;
  importSetupMessage?(email: string, setupCode: string): Promise<KeySummary>;
  exportWkd?(domain: string): Promise<Record<string, string>>;
}

const email = z
  .string()
  .trim()
  .min(3)
  .max(320)
  .regex(/^[^\s@]+@[^\s@]+$/, 'must be an e-mail address');
const hostPort = z.object({
  host: z.string().trim().min(1).max(253),
  port: z.number().int().min(1).max(65535),
});
const secretText = z.string().min(1).max(16384);
/** An S/MIME certificate named by its SHA-256 fingerprint or by an address. */
const certRef = z
  .string()
  .trim()
  .min(3)
  .max(320)
  .regex(/^(?:[0-9A-Fa-f]{64}|[^\s@]+@[^\s@]+)$/, 'must be a certificate fingerprint or an e-mail address');
const oauthCredential = z
  .object({
    profile: z.string().min(1).max(64),
    issuer: z.string().url().max(2048),
    authorizationEndpoint: z.string().url().max(2048),
    tokenEndpoint: z.string().url().max(2048),
    clientId: z.string().min(1).max(1024),
    clientSecret: z.string().max(4096).nullable(),
    scopes: z.array(z.string().max(1024)).max(64),
    refreshToken: secretText,
    accessToken: secretText,
    expiresAt: z.number().int().nonnegative(),
    issuedAt: z.number().int().nonnegative().optional(),
  })
  .strict();
const accountInput = z
  .object({
    email,
    imap: hostPort,
    smtp: hostPort,
    security: z.enum(['starttls', 'tls', 'none']),
    username: z.string().max(320).optional(),
    password: z.string().max(4096).optional(),
    oauth: oauthCredential.optional(),
    caPem: z.string().max(65536).optional(),
  })
  .strict()
  .refine((a) => (a.oauth ? !a.password : !!a.password), {
    message: 'the provider password must not be empty (or sign in with OAuth instead)',
    path: ['password'],
  });

const oauthSignInInput = z
  .object({
    email,
    profile: z.string().min(1).max(64).optional(),
    issuer: z.string().url().max(2048).optional(),
    clientId: z.string().min(1).max(1024).optional(),
    scopes: z.array(z.string().min(1).max(1024)).max(64).optional(),
    imap: hostPort.optional(),
    smtp: hostPort.optional(),
    security: z.enum(['starttls', 'tls', 'none']).optional(),
    username: z.string().max(320).optional(),
    caPem: z.string().max(65536).optional(),
  })
  .strict();

/** How long a started sign-in waits for the browser before it gives up. */
const SIGN_IN_WAIT_MS = 600_000;

const EMPTY_PROGRESS: SyncProgress = {
  phase: 'idle',
  messagesTotal: 0,
  messagesSynced: 0,
  bytesSynced: 0,
  eta: null,
  folders: [],
  sizesKnown: false,
};

export interface BridgeControlDeps {
  home: string;
  store: Store;
  keyring: Keyring;
  events: EventHub<BridgeEvent>;
  logger: Logger;
  logs: LogRing;
  runtime: BridgeRuntime;
  keychain?: KeychainWrapper;
  /** The S/MIME directory asked at send time (its last lookup, for status); absent offline. */
  directory?: { readonly lastLookup: DirectoryLookup | null };
}

export class BridgeControl implements ControlApi {
  readonly #d: BridgeControlDeps;
  /** Running exports by account id: one at a time per account, each stoppable. */
  readonly #exports = new Map<number, AbortController>();
  /** OAuth sign-ins started from the UI, waiting for the browser (by id). */
  readonly #signIns = new Map<
    string,
    { flow: SignInFlow; input: z.infer<typeof oauthSignInInput>; timer: NodeJS.Timeout }
  >();

  constructor(deps: BridgeControlDeps) {
    this.#d = deps;
  }

  async status(): Promise<BridgeStatus> {
    const { store, runtime } = this.#d;
    const accounts: AccountStatus[] = [];
    for (const a of store.accounts.list()) {
      const items = store.outbox.list(a.id);
      const waiting = items.filter((i) => i.state === 'queued' || i.state === 'sending');
      const unsent = items.filter((i) => i.state !== 'sent' && i.lastError);
      const pending = await store.pending.summary(a.id);
      const now = Date.now();
      const age = (at: number | null) => (at === null ? null : Math.max(0, Math.floor((now - at) / 1000)));
      const s = runtime.syncStatus(a.email);
      accounts.push({
        email: a.email,
        connection: a.signedOutAt !== null ? 'signed-out' : (s?.connection ?? 'offline'),
        sync: s?.sync ?? EMPTY_PROGRESS,
        outbox: {
          queued: waiting.length,
          failed: items.filter((i) => i.state === 'failed').length,
          oldestAgeSec: age(waiting.length ? Math.min(...waiting.map((i) => i.createdAt)) : null),
          lastError: unsent.at(-1)?.lastError ?? null,
        },
        pending: {
          changes: pending.changes,
          uploads: pending.uploads,
          oldestAgeSec: age(pending.oldestAt),
          lastError: pending.lastError,
        },
        lastError: s?.lastError ?? null,
        paused: s?.paused ?? false,
      });
    }
    return {
      version: VERSION,
      initialized: true,
      locked: false,
      unlockMethods: unlockMethods(this.#d.home, this.#d.keychain),
      home: this.#d.home,
      ports: runtime.ports(),
      serving: runtime.serving?.() ?? null,
      offline: runtime.offline,
      diskFull: store.diskFull,
      bodyCache: store.messages.bodyCache.status(),
      certificateWarnings: this.#d.keyring.smime?.expiryWarnings() ?? [],
      certificateDirectory: await this.#directoryStatus(),
      accounts,
    };
  }

  async initialize(_passphrase: string): Promise<ClientCredentials> {
    throw new ConflictError('already-initialized', 'the store already exists and is unlocked');
  }

  /** Already unlocked: nothing to do. */
  async unlock(_passphrase: string): Promise<BridgeStatus> {
    return this.status();
  }

  async changePassphrase(current: string, next: string): Promise<void> {
    const fresh = checkNewPassphrase(next, false);
    if (typeof current !== 'string')
      throw new UserError('invalid-argument', 'the current passphrase must be a string');
    if (!unlockMethods(this.#d.home, this.#d.keychain).passphrase) {
      // keychain-only store: the unlocked store may add a passphrase wrap
      await this.#d.store.changePassphrase(fresh);
    } else {
      await rewrapPassphrase({ dir: this.#d.home, oldPassphrase: current, newPassphrase: fresh });
    }
    this.#d.logger.info({}, 'store passphrase changed');
  }

  async listAccounts(): Promise<AccountInfo[]> {
    return this.#d.store.accounts.list().map(accountInfo);
  }

  async discoverProvider(address: string): Promise<ProviderSuggestion | null> {
    return this.#d.runtime.discoverProvider(email.parse(address));
  }

  async addAccount(input: AccountInput): Promise<AccountInfo> {
    const a = accountInput.parse(input);
    const existing = this.#d.store.accounts.getByEmail(a.email);
    if (existing?.signedOutAt === null)
      throw new UserError('account-exists', `account ${a.email} already exists`);
    if (existing) return this.#addAgain(existing, a);
    await this.#d.runtime.verifyProviderLogin(a);
    const saved = this.#d.store.accounts.create({
      email: a.email,
      imap: a.imap,
      smtp: a.smtp,
      security: a.security,
      username: a.username || a.email,
      providerPassword: a.oauth ? '' : (a.password ?? ''),
      oauth: a.oauth ?? null,
      caPem: a.caPem ?? null,
      settings: { encryptAtRest: (await this.getSettings()).encryptAtRest },
    });
    // The user's own key is made for them: mail to and from this address is encrypted from now on.
    if (!this.#d.keyring.own.active(saved.email)) await this.#d.keyring.own.generate(saved.email);
    this.#d.logger.info({ account: saved.email }, 'account added');
    this.#d.runtime.accountsChanged();
    return accountInfo(saved);
  }

  /**
   * `addAccount` of a signed-out account: the same mailbox (IMAP host and login name) signs in
   * again and its kept mail is reconciled by the next sync; another server's is never mixed in.
   */
  async #addAgain(existing: Account, a: z.infer<typeof accountInput>): Promise<AccountInfo> {
    const username = a.username || existing.username;
    const sameHost = a.imap.host.toLowerCase() === existing.imap.host.toLowerCase();
    if (!sameHost || username.toLowerCase() !== existing.username.toLowerCase()) {
      const at = (host: string, user: string) => (sameHost ? `${host} as ${user}` : host);
      throw new UserError(
        'signed-out-elsewhere',
        `${existing.email} is signed out of ${at(existing.imap.host, existing.username)} and its local mail belongs there: ` +
          `sign in there again, or remove it first (lockbridge account remove ${existing.email} deletes its local mail; ` +
          `lockbridge export copies it out) to add it at ${at(a.imap.host, username)}`,
      );
    }
    // the same server: a private CA it was added with still applies unless another is given
    const caPem = a.caPem ?? existing.caPem ?? undefined;
    await this.#d.runtime.verifyProviderLogin({ ...a, username, ...(caPem ? { caPem } : {}) });
    this.#signedIn(existing, {
      imap: a.imap,
      smtp: a.smtp,
      security: a.security,
      username,
      providerPassword: a.oauth ? '' : (a.password ?? ''),
      oauth: a.oauth ?? null,
      caPem: caPem ?? null,
    });
    this.#d.logger.info({ account: existing.email }, 'signed in again; local mail kept');
    return accountInfo(this.#d.store.accounts.require(existing.email));
  }

  /** Saves new provider credentials and (re)starts sync: signs a signed-out account in again. */
  #signedIn(a: Account, patch: AccountPatch): void {
    if (a.signedOutAt === null) {
      this.#d.store.accounts.update(a.id, patch);
      this.#d.runtime.credentialsChanged(a.email);
    } else {
      this.#d.store.accounts.signIn(a.id, patch);
      this.#d.runtime.accountsChanged();
    }
  }

  /** Signs in to account `a`'s provider (IMAP and SMTP) with a new credential before it is saved. */
  #verifyLogin(a: Account, credential: { password: string } | { oauth: OAuthCredential }): Promise<void> {
    return this.#d.runtime.verifyProviderLogin({
      email: a.email,
      imap: a.imap,
      smtp: a.smtp,
      security: a.security,
      username: a.username,
      ...credential,
      ...(a.caPem ? { caPem: a.caPem } : {}),
    });
  }

  async setProviderPassword(address: string, password: string): Promise<void> {
    const a = this.#d.store.accounts.require(email.parse(address));
    if (typeof password !== 'string' || password === '')
      throw new UserError('empty-secret', 'the new provider password is empty');
    await this.#verifyLogin(a, { password });
    this.#signedIn(a, { providerPassword: password });
    this.#d.logger.info({ account: a.email }, 'provider password changed; signing in again');
  }

  async setProviderOAuth(address: string, oauth: OAuthCredential): Promise<void> {
    const a = this.#d.store.accounts.require(email.parse(address));
    const credential = oauthCredential.parse(oauth);
    await this.#verifyLogin(a, { oauth: credential });
    this.#signedIn(a, { oauth: credential, providerPassword: '' });
    this.#d.logger.info({ account: a.email }, 'signed in again with OAuth; sync resumes');
  }

  async beginOAuthSignIn(input: OAuthSignInInput): Promise<OAuthSignInStart> {
    const r = oauthSignInInput.parse(input);
    // signing in again: what the account signed in with before, unless the user names other
    const had = this.#d.store.accounts.getByEmail(r.email)?.oauth ?? null;
    const flow = await startSignIn({
      email: r.email,
      profile:
        r.profile ?? (had && had.profile !== 'oidc' ? had.profile : r.issuer || had ? 'oidc' : undefined),
      issuer: r.issuer ?? had?.issuer,
      clientId: r.clientId ?? had?.clientId,
      clientSecret: r.clientId ? null : (had?.clientSecret ?? null),
      scopes: r.scopes ?? had?.scopes,
    });
    const id = randomUUID();
    const timer = setTimeout(() => void this.cancelOAuthSignIn(id), SIGN_IN_WAIT_MS);
    timer.unref();
    this.#signIns.set(id, { flow, input: r, timer });
    this.#d.logger.info({ account: r.email }, 'OAuth sign-in started; waiting for the browser');
    return { id, url: flow.url, provider: flow.providerName };
  }

  async finishOAuthSignIn(id: string): Promise<AccountInfo> {
    const s = this.#signIns.get(String(id));
    if (!s) throw new NotFoundError('sign-in');
    try {
      const got = await s.flow.finish(SIGN_IN_WAIT_MS);
      const r = s.input;
      const existing = this.#d.store.accounts.getByEmail(r.email);
      if (existing) {
        await this.setProviderOAuth(existing.email, got.credential);
        return accountInfo(this.#d.store.accounts.require(existing.email));
      }
      const imap = r.imap ?? got.imap;
      const smtp = r.smtp ?? got.smtp;
      if (!imap || !smtp)
        throw new UserError(
          'invalid-argument',
          'this provider has no profile: give its IMAP and SMTP servers',
        );
      return await this.addAccount({
        email: r.email,
        imap: { host: imap.host, port: imap.port },
        smtp: { host: smtp.host, port: smtp.port },
        security: r.security ?? got.imap?.security ?? 'tls',
        oauth: got.credential,
        ...(r.username ? { username: r.username } : {}),
        ...(r.caPem ? { caPem: r.caPem } : {}),
      });
    } finally {
      clearTimeout(s.timer);
      this.#signIns.delete(String(id));
      await s.flow.close();
    }
  }

  async cancelOAuthSignIn(id: string): Promise<void> {
    const s = this.#signIns.get(String(id));
    if (!s) return;
    clearTimeout(s.timer);
    this.#signIns.delete(String(id));
    await s.flow.close();
  }

  async repairAccount(address: string): Promise<RepairReport> {
    const a = this.#d.store.accounts.require(email.parse(address));
    if (a.signedOutAt !== null)
      throw new UserError('signed-out', `${a.email} is signed out: sign in again before repairing it`);
    this.#d.logger.info({ account: a.email }, 'repair started');
    const r = await this.#d.runtime.repairAccount(a);
    return { email: a.email, folders: r.folders };
  }

  async removeAccount(address: string, options?: { keepMail?: boolean }): Promise<void> {
    const a = this.#d.store.accounts.require(email.parse(address));
    const o = z
      .object({ keepMail: z.boolean().optional() })
      .strict()
      .optional()
      .parse(options ?? undefined);
    if (o?.keepMail) {
      this.#d.store.accounts.signOut(a.id);
      this.#d.logger.info({ account: a.email }, 'signed out; provider credentials deleted, local mail kept');
    } else {
      this.#d.store.accounts.remove(a.id);
      this.#d.logger.info({ account: a.email }, 'account removed');
    }
    this.#d.runtime.accountsChanged();
  }

  async pauseSync(address: string): Promise<void> {
    this.#d.store.accounts.require(email.parse(address));
    await this.#d.runtime.pauseSync(address);
  }

  async resumeSync(address: string): Promise<void> {
    this.#d.store.accounts.require(email.parse(address));
    await this.#d.runtime.resumeSync(address);
  }

  async credentials(): Promise<ClientCredentials> {
    const { store } = this.#d;
    const settings = await this.getSettings();
    const ports = this.#d.runtime.ports();
    const password = store.credentials.get();
    if (!password) throw new UserError('no-credentials', 'no local password set (run lockbridge init)');
    const ca = store.tls.get('ca');
    const security = settings.tlsMode;
    return {
      host: '127.0.0.1',
      imap: { port: ports.imap ?? settings.imapPort, security },
      smtp: { port: ports.smtp ?? settings.smtpPort, security },
      usernames: store.accounts.list().map((a) => a.email),
      password,
      caPem: ca?.certPem ?? '',
    };
  }

  async resetLocalPassword(): Promise<ClientCredentials> {
    this.#d.store.credentials.reset();
    this.#d.logger.info({}, 'local password reset');
    return this.credentials();
  }

  async thunderbirdAutoconfig(address: string): Promise<string> {
    const a = this.#d.store.accounts.require(email.parse(address));
    const creds = await this.credentials();
    return thunderbirdAutoconfigXml(a.email, creds);
  }

  async listKeys(): Promise<KeySummary[]> {
    return this.#d.keyring.listKeys();
  }

  async generateKey(address: string): Promise<KeySummary> {
    const addr = email.parse(address);
    const rec = await this.#d.keyring.own.generate(addr);
    const summary = this.#d.keyring.listKeys().find((k) => k.own && k.fingerprint === rec.fingerprint);
    if (!summary) throw new Error('generated key not found in the keyring');
    return summary;
  }

  async importKey(armored: string, passphrase?: string): Promise<KeySummary[]> {
    const text = z.string().min(1).max(1_000_000).parse(armored);
    const pass = z
      .string()
      .max(4096)
      .optional()
      .parse(passphrase ?? undefined);
    const imported = await this.#d.keyring.importKeys(text, pass ? { passphrase: pass } : {});
    const fprs = new Set(imported.map((i) => i.fingerprint));
    return this.#d.keyring.listKeys().filter((k) => fprs.has(k.fingerprint));
  }

  #smime(): SmimeCertificates {
    const smime = this.#d.keyring.smime;
    if (!smime) throw new UserError('unavailable', 'S/MIME certificates are not available');
    return smime;
  }

  async listCertificates(): Promise<CertificateList> {
    return this.#smime().list();
  }

  async importCertificates(
    dataBase64: string,
    options?: { passphrase?: string; trusted?: boolean },
  ): Promise<CertificateList> {
    const data = z.string().min(1).max(20_000_000).parse(dataBase64);
    const o = z
      .object({ passphrase: z.string().max(4096).optional(), trusted: z.boolean().optional() })
      .optional()
      .parse(options ?? undefined);
    const bytes = new Uint8Array(Buffer.from(data, 'base64'));
    if (!bytes.length) throw new UserError('invalid-argument', 'no file contents');
    return this.#smime().importFile(bytes, {
      ...(o?.passphrase !== undefined ? { passphrase: o.passphrase } : {}),
      ...(o?.trusted !== undefined ? { trusted: o.trusted } : {}),
    });
  }

  async setCertificateTrust(fingerprint: string, trusted: boolean): Promise<void> {
    const fpr = z
      .string()
      .regex(/^[0-9A-Fa-f]{64}$/)
      .parse(fingerprint);
    this.#smime().setTrusted(fpr, z.boolean().parse(trusted));
  }

  async issueCertificate(
    address: string,
    options?: { algorithm?: 'rsa' | 'ec' },
  ): Promise<CertificateSummary> {
    const addr = email.parse(address);
    const o = z
      .object({ algorithm: z.enum(['rsa', 'ec']).optional() })
      .optional()
      .parse(options ?? undefined);
    return this.#smime().issue(addr, o?.algorithm ?? 'rsa');
  }

  async exportCertificatePkcs12(ref: string, passphrase: string): Promise<string> {
    const r = certRef.parse(ref);
    const pass = z.string().max(4096).parse(passphrase);
    if (!pass) throw new UserError('passphrase-required', 'a passphrase is needed to export a private key');
    return Buffer.from(await this.#smime().exportPkcs12(r, pass)).toString('base64');
  }

  async exportCertificate(ref: string): Promise<string> {
    return this.#smime().exportPem(certRef.parse(ref));
  }

  async exportKey(address: string, secret: boolean): Promise<string> {
    const addr = email.parse(address);
    const own = this.#d.keyring.own.active(addr);
    if (secret) {
      if (!own) throw new NotFoundError(`own key for ${addr}`);
      return this.#d.keyring.own.exportSecret(addr);
    }
    if (own) return this.#d.keyring.own.exportPublic(addr);
    const usable = await this.#d.keyring.contacts.encryptionKeyFor(addr);
    if (!usable) throw new NotFoundError(`key for ${addr}`);
    return usable.key.armor();
  }

  async keyWarnings(): Promise<KeyChangeWarning[]> {
    return this.#d.keyring.keyWarnings();
  }

  async acceptKeyChange(warningId: string): Promise<void> {
    this.#d.keyring.acceptKeyChange(z.string().min(1).max(200).parse(warningId));
  }

  async setKeyTrust(fingerprint: string, trust: KeyTrust): Promise<void> {
    const fpr = z
      .string()
      .regex(/^[0-9A-Fa-f]{40,64}$/, 'must be a key fingerprint')
      .parse(fingerprint);
    const t = z.enum(['unverified', 'verified']).parse(trust);
    const n = this.#d.keyring.contacts.setTrust(fpr.toUpperCase(), t);
    if (n === 0) throw new NotFoundError(`contact key ${fpr}`);
  }

  async sendSetupMessage(address: string): Promise<{ setupCode: string }> {
    const fn = this.#d.runtime.sendSetupMessage;
    if (!fn) throw new UserError('unavailable', 'Autocrypt Setup Messages need a running bridge');
    return fn(email.parse(address));
  }

  async importSetupMessage(address: string, setupCode: string): Promise<KeySummary> {
    const fn = this.#d.runtime.importSetupMessage;
    if (!fn) throw new UserError('unavailable', 'Autocrypt Setup Messages need a running bridge');
    return fn(email.parse(address), z.string().min(1).max(100).parse(setupCode));
  }

  async exportWkd(domain: string): Promise<Record<string, string>> {
    const fn = this.#d.runtime.exportWkd;
    if (!fn) throw new UserError('unavailable', 'WKD export is not available');
    return fn(
      z
        .string()
        .trim()
        .toLowerCase()
        .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'must be a domain name')
        .parse(domain),
    );
  }

  async importMessages(address: string, mailbox: string, files: string[]): Promise<ImportResult> {
    const account = this.#d.store.accounts.require(email.parse(address));
    const box = z.string().min(1).max(1000).parse(mailbox);
    const paths = z
      .array(z.string().min(1))
      .min(1)
      .max(100_000)
      .parse(files)
      .map((f) => resolvePath(f));
    for (const p of paths) {
      let st;
      try {
        st = statSync(p);
      } catch {
        throw new UserError('no-such-file', `no such file: ${p}`);
      }
      if (!st.isFile() && !st.isDirectory()) throw new UserError('not-a-file', `not a file or folder: ${p}`);
    }
    return this.#d.runtime.importFiles(account, box, paths);
  }

  async exportMessages(address: string, mailbox: string | null, target: string): Promise<ExportResult> {
    const account = this.#d.store.accounts.require(email.parse(address));
    const box = z
      .string()
      .min(1)
      .max(1000)
      .nullable()
      .parse(mailbox ?? null);
    let path = z.string().trim().min(1, 'give the folder or .mbox file to export to').max(4096).parse(target);
    if (path === '~' || path.startsWith('~/')) path = joinPath(homedir(), path.slice(1));
    if (!isAbsolute(path) || path.includes('\0'))
      throw new UserError('invalid-argument', `the export target must be an absolute path: ${path}`);
    if (this.#exports.has(account.id))
      throw new UserError('busy', `an export of ${account.email} is already running (stop it first)`);
    const stop = new AbortController();
    this.#exports.set(account.id, stop);
    try {
      const { exportMail } = await import('./export-mail.ts');
      return await exportMail({
        store: this.#d.store,
        account,
        mailbox: box,
        target: resolvePath(path),
        logger: this.#d.logger.child({ module: 'export' }),
        signal: stop.signal,
        onProgress: (p) => this.#d.events.emit({ type: 'export-progress', email: account.email, ...p }),
        ...(this.#d.runtime.fetchBodies
          ? {
              fetchBodies: (mailboxId: number, uids: readonly number[]) =>
                this.#d.runtime.fetchBodies!(account.id, mailboxId, uids),
            }
          : {}),
      });
    } finally {
      this.#exports.delete(account.id);
    }
  }

  async cancelExport(address: string): Promise<boolean> {
    const account = this.#d.store.accounts.require(email.parse(address));
    const running = this.#exports.get(account.id);
    if (!running) return false;
    running.abort();
    return true;
  }

  async outbox(): Promise<OutboxItem[]> {
    const { store } = this.#d;
    const byId = new Map(store.accounts.list().map((a) => [a.id, a.email]));
    const policy = (await this.getSettings()).encryptPolicy;
    return store.outbox.list().map((o) => ({
      id: String(o.id),
      account: byId.get(o.accountId) ?? '',
      subject: typeof o.envelope.subject === 'string' ? o.envelope.subject : '',
      recipients: o.envelope.to,
      state: o.state,
      attempts: o.attempts,
      lastError: o.lastError,
      reason: refusedRecipients(o.envelope)
        ? 'Not sent: it could not be encrypted to every recipient, and your policy requires encryption.'
        : plainSendError(o.lastError),
      nextAttempt: o.state === 'queued' && o.attempts > 0 ? new Date(o.nextAttempt).toISOString() : null,
      createdAt: new Date(o.createdAt).toISOString(),
      unencrypted: this.#unencrypted(o.envelope, policy),
    }));
  }

  /** May a refused message be sent without encryption now (the policy as it is now)? */
  #unencrypted(
    envelope: Record<string, unknown>,
    policy: Settings['encryptPolicy'],
  ): OutboxItem['unencrypted'] {
    const refused = refusedRecipients(envelope);
    if (!refused) return null;
    const required = refused
      .map((r) => r.address)
      .filter((a) => encryptionRequired(policy, this.#d.keyring.getContact(a)?.encrypt));
    return required.length
      ? {
          allowed: false,
          why: `Your encryption policy requires encryption to ${required.join(', ')}, so it cannot be sent without encryption. Add their key and retry, or change the policy in Settings.`,
        }
      : { allowed: true, why: 'Your encryption policy allows sending it without encryption.' };
  }

  async sendOutboxUnencrypted(id: string): Promise<void> {
    const item = this.#outboxItem(id);
    if (!this.#d.runtime.resendOutbox)
      throw new UserError('not-running', 'the bridge is not running: start it with lockbridge serve');
    await this.#d.runtime.resendOutbox(item.id, { withoutEncryption: true });
    this.#d.logger.info({ outboxId: item.id }, 'refused message sent without encryption by the user');
  }

  async retryOutbox(id: string): Promise<void> {
    const item = this.#outboxItem(id);
    if (item.state === 'sending' || item.state === 'sent') return;
    if (refusedRecipients(item.envelope)) {
      // never relayed as kept: it goes through the pipeline again (a key found since encrypts it)
      if (!this.#d.runtime.resendOutbox)
        throw new UserError('not-running', 'the bridge is not running: start it with lockbridge serve');
      await this.#d.runtime.resendOutbox(item.id, { withoutEncryption: false });
      return;
    }
    this.#d.store.outbox.setState(item.id, 'queued', { nextAttempt: Date.now() });
    this.#d.runtime.kickOutbox?.();
  }

  async cancelOutbox(id: string): Promise<void> {
    const item = this.#outboxItem(id);
    if (item.state === 'sending')
      throw new ConflictError('outbox-busy', 'this message is being sent right now: try again in a moment');
    this.#d.store.outbox.remove(item.id);
    this.#d.logger.info({ outboxId: item.id }, 'outbox item cancelled by the user');
  }

  #outboxItem(id: string) {
    const item = /^\d+$/.test(id) ? this.#d.store.outbox.get(Number(id)) : null;
    if (!item) throw new UserError('not-found', 'no such message in the outbox');
    return item;
  }

  async getSettings(): Promise<Settings> {
    return mergeSettings(this.#d.store.settings.get<Partial<Settings>>(SETTINGS_KEY));
  }

  async updateSettings(patch: Partial<Settings>): Promise<Settings> {
    const next = mergeSettings(this.#d.store.settings.get<Partial<Settings>>(SETTINGS_KEY), patch);
    const { store } = this.#d;
    store.settings.set(SETTINGS_KEY, next);
    // encrypt-at-rest is carried out per account by its sync engine
    if (patch && typeof patch === 'object' && 'encryptAtRest' in patch)
      for (const a of store.accounts.list())
        if (a.settings.encryptAtRest !== next.encryptAtRest)
          store.accounts.update(a.id, { settings: { ...a.settings, encryptAtRest: next.encryptAtRest } });
    this.#d.runtime.settingsChanged?.();
    this.#d.logger.info({ changed: Object.keys(patch ?? {}) }, 'settings updated');
    return next;
  }

  async setDirectoryPassword(password: string | null): Promise<void> {
    const pw = z.string().max(4096).nullable().parse(password);
    if (pw) this.#d.store.settings.set(DIRECTORY_PASSWORD_KEY, pw);
    else this.#d.store.settings.delete(DIRECTORY_PASSWORD_KEY);
    this.#d.logger.info({ set: Boolean(pw) }, 'S/MIME directory bind password changed');
  }

  async #directoryStatus(): Promise<DirectoryStatus | null> {
    const conf = (await this.getSettings()).smimeDirectory;
    if (!conf) return null;
    const last = this.#d.directory?.lastLookup ?? null;
    return {
      url: conf.url,
      baseDn: conf.baseDn,
      bindDn: conf.bindDn,
      passwordSet: Boolean(this.#d.store.settings.get<string>(DIRECTORY_PASSWORD_KEY)),
      caSet: Boolean(conf.caPem),
      lastLookup: last ? { at: new Date(last.at).toISOString(), ok: last.ok, detail: last.detail } : null,
    };
  }

  async recentLogs(limit: number): Promise<LogLine[]> {
    return this.#d.logs.recent(z.number().int().min(1).max(5000).parse(limit));
  }

  async createReport(options: ReportOptions): Promise<ReportBundle> {
    const { includePersonal } = z.object({ includePersonal: z.boolean() }).strict().parse(options);
    const [status, settings] = await Promise.all([this.status(), this.getSettings()]);
    const bundle = await buildReport({
      home: this.#d.home,
      includePersonal,
      running: status.ports.imap !== null,
      open: { store: this.#d.store, status, settings },
    });
    this.#d.logger.info({ redacted: bundle.redacted }, 'bug report created');
    return bundle;
  }
}

export function accountInfo(a: Account): AccountInfo {
  return {
    email: a.email,
    imap: a.imap,
    smtp: a.smtp,
    security: a.security,
    username: a.username,
    createdAt: new Date(a.createdAt).toISOString(),
    auth: a.oauth ? 'oauth' : 'password',
    signedOut: a.signedOutAt !== null,
    ...(a.oauth
      ? {
          oauthProfile: a.oauth.profile,
          oauthExpiresAt: new Date(a.oauth.expiresAt).toISOString(),
          oauthIssuer: a.oauth.issuer,
          oauthClientId: a.oauth.clientId,
          oauthScopes: a.oauth.scopes,
        }
      : {}),
  };
}

/** A send error in plain words, from the text nodemailer or the provider gave. */
export function plainSendError(err: string | null): string | null {
  if (!err) return null;
  if (/ECONNREFUSED/.test(err))
    return "The provider's mail server refused the connection (it may be down, or the address or port is wrong).";
  if (/ETIMEDOUT|timeout/i.test(err)) return "The provider's mail server did not answer in time.";
  if (/ENOTFOUND|EAI_AGAIN/.test(err))
    return "The provider's mail server name could not be found (no network, or a wrong host name).";
  if (/ECONNRESET|ESOCKET|EPIPE/.test(err)) return 'The connection to the provider broke off.';
  if (/\b535\b|EAUTH|authentication/i.test(err))
    return 'The provider rejected the login: sign in again with the new password.';
  if (/certificate|TLS|SSL/i.test(err)) return "The provider's TLS certificate could not be verified.";
  const code = /\b([45])\d\d\b/.exec(err);
  if (code?.[1] === '5') return 'The provider refused the message.';
  if (code?.[1] === '4') return 'The provider asked to try again later.';
  return null;
}
