/**
 * The one control contract. The React renderer (through Electron IPC or the headless HTTP control
 * server), the CLI (when a bridge is already serving) and tests all speak exactly this.
 *
 * Rules: every method is async and takes plain JSON-serialisable arguments; results are plain
 * JSON; errors travel as `ControlError` ({ code, message }) and are shown to the user as-is.
 * The renderer may only `import type` from this file.
 */

// Types owned by the layer that produces them, re-exported here as the control vocabulary.
export type { Settings, EncryptPolicy, DirectorySettings } from '../config/settings.ts';
export type { LogLine } from '../shared/logger.ts';
export type { ErrorCode } from '../shared/errors.ts';
export type { OAuthCredential } from '../shared/oauth-credential.ts';
export type { KeySource, KeyTrust, KeySummary, KeyChangeWarning } from '../keys/types.ts';
export type { ConnectionState, FolderProgress, SyncProgress, FolderRepair } from '../sync/progress-types.ts';
export type { CertificateSummary, CertificateWarning, CrlSummary } from '../keys/types.ts';
import type { CertificateSummary, CertificateWarning, CrlSummary } from '../keys/types.ts';
import type { Settings } from '../config/settings.ts';
import type { LogLine } from '../shared/logger.ts';
import type { ErrorCode } from '../shared/errors.ts';
import type { OAuthCredential } from '../shared/oauth-credential.ts';
import type { KeyChangeWarning, KeySummary, KeyTrust } from '../keys/types.ts';
import type { ConnectionState, SyncProgress, RepairReport as FolderRepairs } from '../sync/progress-types.ts';

export type SecurityMode = 'starttls' | 'tls' | 'none';

export interface HostPort {
  host: string;
  port: number;
}

export interface AccountStatus {
  email: string;
  connection: ConnectionState;
  sync: SyncProgress;
  /**
   * Mail waiting to be relayed: counts, the age of the oldest waiting message (seconds) and the
   * latest reason a waiting one was not sent (e.g. the provider's SMTP refused the connection).
   */
  outbox: { queued: number; failed: number; oldestAgeSec: number | null; lastError: string | null };
  /**
   * Local changes waiting for the provider: all of them, the uploads among them (messages to
   * APPEND: imports, client APPENDs, Sent/Drafts copies), the oldest one's age in seconds and the
   * latest error one of them met.
   */
  pending: { changes: number; uploads: number; oldestAgeSec: number | null; lastError: string | null };
  lastError: string | null;
  paused: boolean;
}

/** The settings that apply only at a start, as the running servers use them. */
export interface ServingSettings {
  tlsMode: Settings['tlsMode'];
  allowPlaintextLoopback: boolean;
  imapCompress: boolean;
}

export interface BridgeStatus {
  version: string;
  /** False until the store exists (first run: `initialize`). */
  initialized: boolean;
  /** True while the store is closed: only `status`, `initialize` and `unlock` work. */
  locked: boolean;
  /** How this bridge can unlock: the OS keychain (desktop, real keyring) and/or a passphrase. */
  unlockMethods: { keychain: boolean; passphrase: boolean };
  home: string;
  ports: { imap: number | null; smtp: number | null; control: number | null };
  /** What the running IMAP/SMTP servers were started with (null while they are not running). */
  serving?: ServingSettings | null;
  offline: boolean;
  /**
   * While the disk holding the data directory is full: one sentence naming the disk and the
   * directory. Writes (new mail, flags, imports) are refused meanwhile; reading goes on.
   */
  diskFull: string | null;
  /**
   * The local body cache (issue 20, setting `bodyCacheMB`): stored body bytes, the budget in bytes
   * (null: every body is kept) and how many messages' bodies are evicted (fetched again from the
   * provider when a client asks for them). Absent while the store is locked.
   */
  bodyCache?: { storedBytes: number; budgetBytes: number | null; evicted: number };
  /**
   * The user's own S/MIME certificates that have expired or expire within 30 days (and are not
   * replaced by a newer one for the same addresses), soonest first. Absent while locked.
   */
  certificateWarnings?: CertificateWarning[];
  /**
   * The S/MIME directory (setting `smimeDirectory`) when one is set: where, whether a bind
   * password is kept (never the password), and how the last lookup at send time went (null: none
   * since the start). Absent while locked.
   */
  certificateDirectory?: DirectoryStatus | null;
  accounts: AccountStatus[];
}

export interface DirectoryStatus {
  url: string;
  baseDn: string;
  bindDn: string | null;
  passwordSet: boolean;
  /** whether ldaps:// is checked against a CA of its own (setting caPem) rather than the system's roots */
  caSet: boolean;
  /** ok false: the directory was down, refused the bind or did not answer within timeoutMs */
  lastLookup: { at: string; ok: boolean; detail: string } | null;
}

export interface AccountInfo {
  email: string;
  imap: HostPort;
  smtp: HostPort;
  security: SecurityMode;
  username: string;
  createdAt: string;
  /** How it signs in to the provider: a password, or OAuth 2.0. */
  auth?: 'password' | 'oauth';
  /** OAuth: the profile ('google', 'microsoft', ..., 'custom') and when the access token expires. */
  oauthProfile?: string;
  oauthExpiresAt?: string;
  /** OAuth: the issuer, client id and scopes it signed in with (not secrets; for signing in again). */
  oauthIssuer?: string;
  oauthClientId?: string;
  oauthScopes?: string[];
  /**
   * Signed out keeping its local mail (`removeAccount(email, { keepMail: true })`): no provider
   * credentials, no sync; its mail is still served locally. `addAccount` with the same IMAP host
   * (or `setProviderPassword` / `setProviderOAuth`) signs it in again.
   */
  signedOut?: boolean;
}

export interface AccountInput {
  email: string;
  imap: HostPort;
  smtp: HostPort;
  security: SecurityMode;
  username?: string;
  /** The provider password; '' (or absent) when `oauth` is given. */
  password?: string;
  /**
   * OAuth 2.0 sign-in instead of a password: what the authorization-code flow got
   * (endpoints, client, tokens). Kept only inside the encrypted store.
   */
  oauth?: OAuthCredential;
  /** PEM of a private CA that signs the provider's certificate. */
  caPem?: string;
}

/**
 * An OAuth 2.0 sign-in started from the UI. For an address with no account yet it adds
 * the account; for an existing account it signs it in again (its profile, issuer, client and
 * scopes are reused unless given).
 */
export interface OAuthSignInInput {
  email: string;
  /** 'google', 'microsoft', 'yahoo', 'aol', 'fastmail', or 'oidc' with `issuer`; absent: from the address. */
  profile?: string;
  /** OpenID Connect issuer URL (its discovery document names the endpoints). */
  issuer?: string;
  /** The user's own client registration (else the distribution's, from the environment). */
  clientId?: string;
  scopes?: string[];
  /** New account: its servers when the profile has none (oidc), or to override the profile's. */
  imap?: HostPort;
  smtp?: HostPort;
  security?: SecurityMode;
  username?: string;
  caPem?: string;
}

export interface OAuthSignInStart {
  /** Names this sign-in in finishOAuthSignIn / cancelOAuthSignIn. */
  id: string;
  /** The provider's sign-in page: the UI opens it in the user's browser. */
  url: string;
  /** What the user signs in to ('Google', or the issuer's URL). */
  provider: string;
}

/** Provider settings found for an address (RFC 6186 SRV, autoconfig), or null. */
export interface ProviderSuggestion {
  source: 'srv' | 'autoconfig' | 'guess';
  imap: HostPort;
  smtp: HostPort;
  security: SecurityMode;
  username?: string;
  /**
   * The OAuth profile to sign in with ('google', 'microsoft', ...), when the autoconfig
   * file offers `<authentication>OAuth2</authentication>` for a host a built-in profile knows.
   */
  oauth?: string;
  /** The provider's name for the sign-in button ('Google'), with `oauth`. */
  oauthName?: string;
}

export interface ClientCredentials {
  host: string;
  imap: { port: number | null; security: SecurityMode };
  smtp: { port: number | null; security: SecurityMode };
  usernames: string[];
  password: string;
  caPem: string;
}

export interface ImportResult {
  imported: number;
  skipped: number;
  errors: string[];
}

export interface ExportResult {
  exported: number;
  /** How many folders (mailboxes) were exported. */
  folders: number;
  bytes: number;
  /** The absolute path written: a folder of `<folder>/<uid>.eml` files, or one mbox file. */
  target: string;
  format: 'eml' | 'mbox';
}

export interface OutboxItem {
  id: string;
  account: string;
  subject: string;
  recipients: string[];
  state: 'queued' | 'sending' | 'sent' | 'failed';
  attempts: number;
  lastError: string | null;
  /** The reason in plain words (lastError is the provider's or the network's own text). */
  reason: string | null;
  /** When a queued item is tried next (ISO), null when it is not waiting for a retry. */
  nextAttempt: string | null;
  createdAt: string;
  /**
   * For a message refused because it could not be encrypted (policy 'always', a key missing):
   * whether `sendOutboxUnencrypted` may send it without encryption now, and why not. Null for
   * every other item.
   */
  unencrypted: { allowed: boolean; why: string } | null;
}

/** What `repairAccount` found and did, folder by folder. */
export interface RepairReport extends FolderRepairs {
  email: string;
}

export interface ReportOptions {
  /** Keep addresses, subjects, folder names, provider hosts and IPs (secrets are never included). */
  includePersonal: boolean;
}

/** A bug-report bundle: one JSON file (`content`) to save as `fileName`. */
export interface ReportBundle {
  fileName: string;
  content: string;
  redacted: boolean;
  /** Parts left out, and why. */
  missing: string[];
}

/** Events pushed to every subscriber (renderer, tray, CLI `status --watch`). */
export type BridgeEvent =
  | { type: 'status'; status: BridgeStatus }
  | { type: 'sync-progress'; email: string; progress: SyncProgress }
  | { type: 'connection'; email: string; state: ConnectionState; error: string | null }
  | { type: 'key-change'; warning: KeyChangeWarning }
  | { type: 'send-failed'; email: string; id: string; reason: string }
  | { type: 'import-progress'; email: string; imported: number; bytes: number; totalBytes: number | null }
  | { type: 'export-progress'; email: string; exported: number; bytes: number; totalBytes: number | null }
  /** A repair moves on: `folder` is being checked (null when all are), `done` of `total` folders finished. */
  | { type: 'repair-progress'; email: string; folder: string | null; done: number; total: number }
  | { type: 'log'; line: LogLine };

export interface ControlApi {
  status(): Promise<BridgeStatus>;

  /**
   * First run: creates the encrypted store, the local TLS material and the local password, then
   * unlocks and starts the bridge. `passphrase` may be '' only when the OS keychain wraps the key.
   */
  initialize(passphrase: string): Promise<ClientCredentials>;
  /** Opens the store with the passphrase (or, with '', the OS keychain) and starts the bridge. */
  unlock(passphrase: string): Promise<BridgeStatus>;
  /** Rewraps the store key under a new passphrase (checks the current one first). */
  changePassphrase(current: string, next: string): Promise<void>;

  listAccounts(): Promise<AccountInfo[]>;
  discoverProvider(email: string): Promise<ProviderSuggestion | null>;
  /**
   * Verifies the provider login, then saves. For a signed-out account with this address it signs
   * it in again, keeping its local mail (the next sync downloads only what is new) — refused
   * (`signed-out-elsewhere`) when the IMAP host or the login name differs.
   */
  addAccount(input: AccountInput): Promise<AccountInfo>;
  /**
   * Deletes the account and its local mail. With `keepMail` it signs out instead: sync stops, the
   * provider password or OAuth tokens are deleted, and its folders, messages, flags, remote
   * mappings, waiting local changes and outbox stay (listed as signed out).
   */
  removeAccount(email: string, options?: { keepMail?: boolean }): Promise<void>;
  /**
   * Signs in again after the provider password changed (or an app password was revoked): checks
   * the new password at the provider (IMAP and SMTP), saves it and resumes sync at once. The
   * account and all its local mail stay as they are.
   */
  setProviderPassword(email: string, password: string): Promise<void>;
  /**
   * Signs an OAuth account in again (the grant was revoked or expired — status says
   * "sign in again"): takes what a new authorization-code flow got, checks the access token at
   * the provider (IMAP and SMTP), saves it and resumes sync at once; local mail stays. Also turns
   * a password account into an OAuth one.
   */
  setProviderOAuth(email: string, oauth: OAuthCredential): Promise<void>;
  /**
   * Starts an OAuth 2.0 sign-in in the bridge (authorization code with PKCE, a loopback redirect on
   * 127.0.0.1): returns the provider's page for the UI to open. Nothing is saved yet.
   */
  beginOAuthSignIn(input: OAuthSignInInput): Promise<OAuthSignInStart>;
  /**
   * Waits (up to 10 minutes) for the browser to come back from the provider's page, gets the
   * tokens, checks them at the provider (IMAP and SMTP) and adds the account — or, when it exists,
   * signs it in again keeping its local mail and resumes sync. The tokens stay in the bridge.
   */
  finishOAuthSignIn(id: string): Promise<AccountInfo>;
  /** Gives up a sign-in (the user closed the dialog): a pending finishOAuthSignIn fails. */
  cancelOAuthSignIn(id: string): Promise<void>;
  /**
   * Re-checks every folder of the account against the provider (UIDVALIDITY, every UID, the
   * stored bytes of every local copy) and fetches again what is missing or damaged locally.
   * Local flags, queued local changes and the UIDs of intact messages stay as they are; nothing
   * is written at the provider.
   */
  repairAccount(email: string): Promise<RepairReport>;
  pauseSync(email: string): Promise<void>;
  resumeSync(email: string): Promise<void>;

  credentials(): Promise<ClientCredentials>;
  resetLocalPassword(): Promise<ClientCredentials>;
  thunderbirdAutoconfig(email: string): Promise<string>;

  listKeys(): Promise<KeySummary[]>;
  generateKey(email: string): Promise<KeySummary>;
  /**
   * Imports armored keys: contacts' public keys, or own secret keys. A passphrase-protected secret
   * key (gpg and Thunderbird export them so) needs `passphrase`: without it the call fails with
   * code 'passphrase-required' (the UI then asks), with a wrong one 'bad-passphrase'; either way
   * nothing is imported. The key is kept unlocked inside the encrypted store; the passphrase is not
   * kept.
   */
  importKey(armored: string, passphrase?: string): Promise<KeySummary[]>;
  exportKey(email: string, secret: boolean): Promise<string>;
  keyWarnings(): Promise<KeyChangeWarning[]>;
  /** Accepts the new key of a warning and marks it verified. */
  acceptKeyChange(warningId: string): Promise<void>;
  setKeyTrust(fingerprint: string, trust: KeyTrust): Promise<void>;
  /** Creates an Autocrypt Setup Message in the user's own mailbox; returns the setup code. */
  sendSetupMessage(email: string): Promise<{ setupCode: string }>;
  importSetupMessage(email: string, setupCode: string): Promise<KeySummary>;
  /** The `.well-known/openpgpkey` tree for a domain, as path → base64 file contents. */
  exportWkd(domain: string): Promise<Record<string, string>>;

  /** S/MIME: the user's own certificates (with keys) and every other certificate held (issue 19). */
  listCertificates(): Promise<CertificateList>;
  /**
   * Imports an S/MIME file given as base64: PEM or DER certificates (a correspondent's, or a CA the
   * user trusts with `trusted`), a certificate revocation list (PEM or DER; it then revokes, for
   * S/MIME signatures, the certificates it lists once its issuer's signature on it verifies), or
   * a PKCS#12 (.p12/.pfx) with the user's certificate and private key (code 'passphrase-required'
   * without the passphrase it needs, 'bad-passphrase' when wrong; `trusted` then trusts the chain
   * it carries). Returns what was imported.
   */
  importCertificates(
    dataBase64: string,
    options?: { passphrase?: string; trusted?: boolean },
  ): Promise<CertificateList>;
  /** Makes a held certificate a trust anchor for S/MIME signatures, or no longer one. */
  setCertificateTrust(fingerprint: string, trusted: boolean): Promise<void>;
  /**
   * Issues an S/MIME certificate for the address (RSA 3072 by default, or EC P-256;
   * emailProtection, valid two years) signed by the installation's intermediate CA under its root
   * CA (made on the first issue, reused after) and keeps it with its private key as the user's own
   * (source 'issued').
   */
  issueCertificate(email: string, options?: { algorithm?: 'rsa' | 'ec' }): Promise<CertificateSummary>;
  /**
   * The user's own certificate (by SHA-256 fingerprint, or the newest for an address) with its
   * private key and chain as a PKCS#12 file protected by `passphrase` (not empty), base64.
   */
  exportCertificatePkcs12(ref: string, passphrase: string): Promise<string>;
  /**
   * A certificate as PEM without any private key: the user's own (by fingerprint or address, with
   * its chain) or any other held one (by fingerprint).
   */
  exportCertificate(ref: string): Promise<string>;

  importMessages(email: string, mailbox: string, files: string[]): Promise<ImportResult>;
  /**
   * Writes the account's mail, decrypted (exactly the bytes the local IMAP server serves), to
   * `target`, an absolute path on this machine (or `~/...`): a new or empty folder gets one
   * `<folder>/<uid>.eml` per message, a name ending in `.mbox` one mboxrd file. `mailbox` null =
   * every folder. Never overwrites (code 'target-not-empty'); progress as 'export-progress' events.
   */
  exportMessages(email: string, mailbox: string | null, target: string): Promise<ExportResult>;
  /**
   * Stops the account's running export (resolves false when none runs). What was written stays
   * where it is (an mbox keeps whole messages only); `exportMessages` then fails with code
   * 'cancelled', saying how much was written.
   */
  cancelExport(email: string): Promise<boolean>;
  outbox(): Promise<OutboxItem[]>;
  /** Tries a queued or failed outbox item again now. */
  retryOutbox(id: string): Promise<void>;
  /** Removes an outbox item that is not being sent right now (it is never sent). */
  cancelOutbox(id: string): Promise<void>;
  /**
   * Sends a message that was refused because it could not be encrypted, without encryption to the
   * recipients it could not be encrypted to (signed when signing is on), through the one outgoing
   * path; its Sent copy is filed. Refused with code 'encryption-required' while the policy (the
   * account's, or a contact's own setting) requires encryption to one of them.
   */
  sendOutboxUnencrypted(id: string): Promise<void>;

  getSettings(): Promise<Settings>;
  updateSettings(patch: Partial<Settings>): Promise<Settings>;
  /**
   * Keeps the S/MIME directory's bind password (setting `smimeDirectory.bindDn`) in the encrypted
   * store, or forgets it (null or ''). It is never returned, logged or put in a report; status
   * says whether one is kept.
   */
  setDirectoryPassword(password: string | null): Promise<void>;
  recentLogs(limit: number): Promise<LogLine[]>;
  /**
   * A bug-report bundle: version, platform, settings, account states, recent logs with their
   * account and error fields, store health. Redacted of personal data unless `includePersonal`;
   * never holds a secret.
   */
  createReport(options: ReportOptions): Promise<ReportBundle>;
}

export interface CertificateList {
  own: CertificateSummary[];
  certificates: CertificateSummary[];
  /** from importCertificates: the certificate revocation lists the file held */
  crls?: CrlSummary[];
}

export type ControlMethod = keyof ControlApi;

/**
 * A UserError's code, or one of the transports' own (HTTP control server, Electron IPC): 'internal'
 * (an unexpected error, logged), 'unauthorized' (no or a wrong control token), and a malformed or
 * refused call.
 */
export type ControlErrorCode =
  | ErrorCode
  | 'internal'
  | 'unauthorized'
  | 'forbidden'
  | 'forbidden-host'
  | 'bad-request'
  | 'method-not-allowed'
  | 'unknown-method'
  | 'invalid-call'
  | 'too-large';

export interface ControlError {
  code: ControlErrorCode;
  message: string;
}

/** Names of every ControlApi method, for transports that must validate the method name. */
export const CONTROL_METHODS: readonly ControlMethod[] = [
  'status',
  'initialize',
  'unlock',
  'changePassphrase',
  'listAccounts',
  'discoverProvider',
  'addAccount',
  'removeAccount',
  'setProviderPassword',
  'setProviderOAuth',
  'beginOAuthSignIn',
  'finishOAuthSignIn',
  'cancelOAuthSignIn',
  'repairAccount',
  'pauseSync',
  'resumeSync',
  'credentials',
  'resetLocalPassword',
  'thunderbirdAutoconfig',
  'listKeys',
  'generateKey',
  'importKey',
  'exportKey',
  'keyWarnings',
  'acceptKeyChange',
  'setKeyTrust',
  'sendSetupMessage',
  'importSetupMessage',
  'exportWkd',
  'listCertificates',
  'importCertificates',
  'setCertificateTrust',
  'issueCertificate',
  'exportCertificatePkcs12',
  'exportCertificate',
  'importMessages',
  'exportMessages',
  'cancelExport',
  'outbox',
  'retryOutbox',
  'cancelOutbox',
  'sendOutboxUnencrypted',
  'getSettings',
  'updateSettings',
  'setDirectoryPassword',
  'recentLogs',
  'createReport',
] as const;
