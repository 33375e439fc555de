/**
 * The relay worker: sends each outbox copy to the provider's SMTP server (nodemailer; STARTTLS or
 * implicit TLS with certificate checks, a private CA allowed; AUTH with the provider login), one
 * SMTP transaction per copy with that copy's own envelope.
 *
 * States (in the store, so they survive restarts): queued → sending → sent | failed.
 * - 4xx replies, network and TLS errors, and provider auth failures: back to 'queued' with an
 *   exponential backoff (the message waits; `status` shows the last error).
 * - A permanent 5xx for the transaction (MAIL/RCPT/DATA refused): 'failed', and a failure notice
 *   is put into the account's local Inbox. Recipients refused individually while others were
 *   accepted get a notice too; the copy counts as sent.
 *
 * Delivery semantics — the commit point is the provider's 250 reply to DATA, written to disk
 * ('sent', synchronous=FULL) the moment it arrives and before the next copy starts: a copy recorded
 * as sent is never sent again, whatever crashes afterwards. SMTP has one window no client can
 * close: between the end of DATA and its reply, the provider may have accepted the message
 * although we never hear so (a crash, a cut connection, a lost reply). Such a copy is found in
 * 'sending' at startup, or fails with a network error; we choose AT-LEAST-ONCE and send it again
 * (never lose mail), so it can arrive twice, with the same Message-ID, which receiving clients
 * de-duplicate. Everything before the end of DATA (connect, AUTH, MAIL, RCPT, a refused DATA) is
 * retried without any risk of a duplicate.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import { isIP } from 'node:net';
import type { Logger } from '../../shared/logger.ts';
import type { Store } from '../../store/store.ts';
import type { OutboxRecord } from '../../store/repos/outbox.ts';
import type { Account } from '../../store/repos/accounts.ts';
import { analyzeMessage } from '../../mime/analyze.ts';
import { buildFailureNotice } from '../../outgoing/failure-notice.ts';
import type { OutboxCopyEnvelope } from '../../outgoing/queued-copy.ts';
import type { AccessTokens } from '../remote/access-tokens.ts';

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** give up (failed + notice) after this long in the queue */
  maxAgeMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  baseMs: 5_000,
  maxMs: 15 * 60_000,
  maxAgeMs: 5 * 24 * 3600_000,
};

export type OutboxEvent =
  | { type: 'sent'; id: number; accountId: number; response: string }
  | { type: 'retry'; id: number; accountId: number; error: string; nextAttempt: number }
  | { type: 'failed'; id: number; accountId: number; error: string };

export interface OutboxWorkerOptions {
  store: Store;
  logger: Logger;
  backoff?: Partial<BackoffOptions>;
  /** idle poll interval (due retries); kick() wakes the worker at once */
  pollMs?: number;
  /** per-connection timeouts towards the provider */
  timeoutMs?: number;
  /** puts a failure notice into the account's local Inbox (default: store insert into INBOX) */
  deliverNotice?: (account: Account, raw: Buffer) => void;
  onEvent?: (e: OutboxEvent) => void;
  now?: () => number;
  /** 'sent' items (and their bytes) are removed after this long (default 24 h). */
  sentRetentionMs?: number;
  /** stop() waits this long for the copy in flight, then aborts it (it is retried later). */
  stopTimeoutMs?: number;
  /** Access tokens of OAuth accounts: SMTP signs in with XOAUTH2. */
  tokens?: AccessTokens;
}

export interface OutboxStatus {
  queued: number;
  sending: number;
  failed: number;
  sent: number;
  lastError: string | null;
}

interface SmtpLikeError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  rejected?: string[];
}

const PERMANENT_CODES = new Set(['EENVELOPE', 'EMESSAGE']);

/** Is this a permanent refusal of the message (5xx in MAIL/RCPT/DATA)? Auth/TLS/network are not. */
export function isPermanent(err: SmtpLikeError): boolean {
  const code = err.responseCode ?? 0;
  if (code < 500 || code > 599) return false;
  if (err.code === 'EAUTH' || err.code === 'ETLS' || err.code === 'ECONNECTION') return false;
  return PERMANENT_CODES.has(err.code ?? '') || /^(MAIL FROM|RCPT TO|DATA)/i.test(err.command ?? '');
}

export function backoffDelay(attempts: number, b: BackoffOptions): number {
  return Math.min(b.maxMs, b.baseMs * 2 ** Math.max(0, attempts - 1));
}

export class OutboxWorker {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #backoff: BackoffOptions;
  readonly #pollMs: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #deliverNotice: (account: Account, raw: Buffer) => void;
  readonly #onEvent: (e: OutboxEvent) => void;
  readonly #sentRetentionMs: number;
  readonly #stopTimeoutMs: number;
  readonly #tokens: AccessTokens | null;
  #transport: Transporter | null = null;
  #abort: AbortController | null = null;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = true;
  #stopping = false;

  constructor(opts: OutboxWorkerOptions) {
    this.#store = opts.store;
    this.#log = opts.logger.child({ module: 'outbox' });
    this.#backoff = { ...DEFAULT_BACKOFF, ...(opts.backoff ?? {}) };
    this.#pollMs = opts.pollMs ?? 5_000;
    this.#timeoutMs = opts.timeoutMs ?? 60_000;
    this.#now = opts.now ?? Date.now;
    this.#deliverNotice = opts.deliverNotice ?? ((account, raw) => this.#insertIntoInbox(account, raw));
    this.#onEvent = opts.onEvent ?? (() => {});
    this.#sentRetentionMs = opts.sentRetentionMs ?? 24 * 3600_000;
    this.#stopTimeoutMs = opts.stopTimeoutMs ?? 3_000;
    this.#tokens = opts.tokens ?? null;
  }

  /** Recovers interrupted items (at-least-once, see above) and starts the loop. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#stopping = false;
    const requeued = this.#store.outbox.requeueInterrupted();
    if (requeued)
      this.#log.warn(
        { requeued },
        'outbox items interrupted while sending are queued again (one the provider had already accepted arrives twice)',
      );
    this.kick();
  }

  /** Wakes the worker (a new message was queued). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#running = this.#loop().finally(() => {
      this.#running = null;
      if (this.#stopped) return;
      if (this.#again) {
        this.#again = false;
        this.kick();
      } else this.#schedule();
    });
  }

  /** Stops after the item in flight (if any) is finished and recorded. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (!this.#running) return;
    const finished = await Promise.race([
      this.#running.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), this.#stopTimeoutMs).unref()),
    ]);
    if (!finished) {
      this.#log.warn({}, 'stopping: aborting the copy in flight (it will be sent again)');
      this.#abort?.abort();
      (this.#transport as unknown as { close(o?: { force?: boolean }): void } | null)?.close({ force: true });
      await this.#running;
    }
  }

  /** Per account (or for all): counts by state and the most recent error of a waiting item. */
  status(accountId?: number): OutboxStatus {
    const rows = this.#store.outbox.list(accountId);
    const s: OutboxStatus = { queued: 0, sending: 0, failed: 0, sent: 0, lastError: null };
    let lastErrAt = -1;
    for (const r of rows) {
      s[r.state]++;
      if (r.lastError && r.state !== 'sent' && r.id > lastErrAt) {
        lastErrAt = r.id;
        s.lastError = r.lastError;
      }
    }
    return s;
  }

  /** Sends everything due now; returns how many items were processed. */
  async runOnce(): Promise<number> {
    this.#prune();
    const due = this.#store.outbox.due(this.#now(), 50);
    let n = 0;
    const byAccount = new Map<number, OutboxRecord[]>();
    for (const r of due) byAccount.set(r.accountId, [...(byAccount.get(r.accountId) ?? []), r]);
    for (const [accountId, items] of byAccount) {
      const account = this.#store.accounts.get(accountId);
      // signed out: its mail waits (nothing contacts the provider) and goes after the sign-in
      if (!account || account.signedOutAt !== null) continue;
      const transport = this.#transportFor(account);
      this.#transport = transport;
      this.#abort = new AbortController();
      try {
        for (const item of items) {
          if (this.#stopping) break;
          await this.#sendOne(account, item, transport);
          n++;
        }
      } finally {
        transport.close();
        this.#transport = null;
        this.#abort = null;
      }
    }
    return n;
  }

  #prune(): void {
    const cutoff = this.#now() - this.#sentRetentionMs;
    for (const r of this.#store.outbox.list())
      if (r.state === 'sent' && r.createdAt < cutoff) this.#store.outbox.remove(r.id);
  }

  async #loop(): Promise<void> {
    try {
      while (!this.#stopped) {
        const n = await this.runOnce();
        if (n === 0) break;
      }
    } catch (err) {
      this.#log.error({ err }, 'outbox loop error');
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => this.kick(), this.#pollMs);
    this.#timer.unref?.();
  }

  /**
   * nodemailer's token callback: a usable token, and after the server rejected one (`renew`) a
   * refreshed one — nodemailer asks once more, then fails with EAUTH ("sign in again").
   */
  #provision(
    accountId: number,
  ): (user: string, renew: boolean, cb: (err: Error | null, token?: string) => void) => void {
    let last: string | undefined;
    return (_user, renew, cb) => {
      if (!this.#tokens) {
        cb(new Error('sign in again: no OAuth token service is running'));
        return;
      }
      this.#tokens.accessToken(accountId, renew && last ? { rejected: last } : {}).then(
        (t) => {
          last = t;
          cb(null, t);
        },
        (err: Error) => cb(err),
      );
    };
  }

  #transportFor(account: Account): Transporter {
    const security = account.smtpSecurity ?? account.security;
    return nodemailer.createTransport({
      host: account.smtp.host,
      port: account.smtp.port,
      secure: security === 'tls',
      requireTLS: security === 'starttls',
      ignoreTLS: security === 'none',
      auth: account.oauth
        ? { type: 'OAuth2' as const, user: account.username, provisionCallback: this.#provision(account.id) }
        : { user: account.username, pass: account.providerPassword },
      tls: {
        rejectUnauthorized: true,
        ...(isIP(account.smtp.host) ? {} : { servername: account.smtp.host }),
        ...(account.caPem ? { ca: account.caPem } : {}),
      },
      pool: true,
      maxConnections: 1,
      maxMessages: 100,
      connectionTimeout: this.#timeoutMs,
      greetingTimeout: this.#timeoutMs,
      socketTimeout: this.#timeoutMs,
      name: 'localhost',
    });
  }

  async #sendOne(account: Account, item: OutboxRecord, transport: Transporter): Promise<void> {
    const env = item.envelope as OutboxCopyEnvelope;
    const raw = this.#store.outbox.raw(item.id);
    if (!raw) return;
    if (this.#now() - item.createdAt > this.#backoff.maxAgeMs) {
      this.#fail(
        account,
        item,
        env,
        `gave up after ${item.attempts} attempts: ${item.lastError ?? 'unknown error'}`,
      );
      return;
    }
    this.#store.outbox.setState(item.id, 'sending', { countAttempt: true });
    let info: {
      response?: string;
      rejected?: unknown[];
      accepted?: unknown[];
      rejectedErrors?: SmtpLikeError[];
    };
    try {
      const mail = { envelope: { from: env.from, to: env.to }, raw, signal: this.#abort?.signal };
      info = (await transport.sendMail(mail as Parameters<Transporter['sendMail']>[0])) as typeof info;
    } catch (e) {
      const err = e as SmtpLikeError;
      const reason =
        account.oauth && err.code === 'EAUTH' ? `sign in again: ${describe(err)}` : describe(err);
      if (isPermanent(err)) {
        this.#fail(account, item, env, reason, e);
      } else {
        const attempts = item.attempts + 1;
        const nextAttempt = this.#now() + backoffDelay(attempts, this.#backoff);
        this.#store.outbox.setState(item.id, 'queued', { error: reason, nextAttempt });
        this.#log.warn({ id: item.id, attempts, reason, err: e }, 'relay failed, will retry');
        this.#onEvent({ type: 'retry', id: item.id, accountId: account.id, error: reason, nextAttempt });
      }
      return;
    }
    // The commit point: the provider accepted DATA. Record it, durably, before anything else.
    this.#store.outbox.markSent(item.id);
    const response = info.response ?? '';
    this.#log.info({ id: item.id, recipients: env.to.length }, 'relayed');
    this.#onEvent({ type: 'sent', id: item.id, accountId: account.id, response });
    const rejected = (info.rejected ?? []).map(String);
    if (rejected.length) {
      const accepted = (info.accepted ?? []).map(String);
      const replies = (info.rejectedErrors ?? []).map((e) => describe(e)).filter(Boolean);
      const reason = replies.length ? replies.join(' | ') : 'the provider refused these recipients';
      this.#notice(account, env, rejected, reason, accepted);
    }
  }

  #fail(account: Account, item: OutboxRecord, env: OutboxCopyEnvelope, reason: string, err?: unknown): void {
    this.#store.outbox.setState(item.id, 'failed', { error: reason });
    this.#log.warn({ id: item.id, reason, err }, 'relay failed permanently');
    this.#onEvent({ type: 'failed', id: item.id, accountId: account.id, error: reason });
    this.#notice(account, env, env.to, reason, []);
  }

  #notice(
    account: Account,
    env: OutboxCopyEnvelope,
    recipients: string[],
    reason: string,
    accepted: string[],
  ): void {
    try {
      const raw = buildFailureNotice({
        accountEmail: account.email,
        recipients,
        reason,
        originalSubject: env.subject ?? '',
        originalMessageId: env.messageId ?? '',
        acceptedRecipients: accepted,
        now: new Date(this.#now()),
      });
      this.#deliverNotice(account, raw);
    } catch (err) {
      this.#log.error({ err }, 'could not file the failure notice');
    }
  }

  #insertIntoInbox(account: Account, raw: Buffer): void {
    const inbox =
      this.#store.mailboxes.getByName(account.id, 'INBOX') ??
      this.#store.mailboxes.ensure(account.id, 'INBOX');
    this.#store.messages.insert(inbox.id, { raw, analysis: analyzeMessage(raw) });
  }
}

function describe(err: SmtpLikeError): string {
  const reply = err.response ? err.response.replace(/\s+/g, ' ').trim() : '';
  const code = err.code ? `${err.code}: ` : '';
  return (reply || `${code}${err.message}`).slice(0, 500);
}
