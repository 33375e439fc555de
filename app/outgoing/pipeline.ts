/**
 * The outgoing pipeline behind the SubmissionPort (app/control/adapters/submission.ts adds the
 * local login): the one path every submitted message takes.
 *
 *   parse once (prepareMessage) → Bcc = RCPT − (To ∪ Cc) → find every recipient's key (in
 *   parallel, bounded by settings.keyLookupTimeoutMs) and S/MIME certificate (held ones, else the
 *   user's S/MIME directory, bounded by its timeoutMs, beside the key lookup) → plan
 *   per recipient (app/keys' policy: OpenPGP, S/MIME, signed or plain) →
 *   group into copies (groupCopies) →
 *   build the copies (buildCopies) → enqueue every copy in ONE transaction → schedule the Sent
 *   copy → resolve.
 *
 * A refusal (policy requires encryption, a key is missing) throws EncryptionRequiredError and
 * queues nothing for sending; the refused message is kept in the outbox as a 'failed' item (with
 * the refused recipients and why) so that the user can act on it there: `resend()` puts it through
 * this same pipeline again — as it is (a key found since, a changed policy), or without encryption
 * to the refused recipients when the policy allows that. The SMTP server replies 250 only after
 * submit() resolved, i.e. after COMMIT.
 * The outbox relay (app/sync/outbox) sends what is queued.
 */
import * as openpgp from 'openpgp';
import type { Settings } from '../config/settings.ts';
import type { CryptoEngine } from '../crypto/engine.ts';
import type { Logger } from '../shared/logger.ts';
import { isDiskFull, NotFoundError, UserError } from '../shared/errors.ts';
import type { Store } from '../store/store.ts';
import type { Keyring } from '../keys/keyring.ts';
import type { KeyringRepo, OwnKeyRecord } from '../keys/types.ts';
import { minimizeKey } from '../keys/autocrypt/minimize.ts';
import { formatAutocryptHeader, formatAutocryptValue } from '../keys/autocrypt/header.ts';
import type { AccountId, CheckResult, SubmissionPort, SubmissionRequest } from '../smtp/submission-port.ts';
import {
  EncryptionRequiredError,
  InvalidMessageError,
  SubmissionError,
  TemporarySubmissionError,
} from '../smtp/errors.ts';
import { prepareMessage } from './prepare.ts';
import { canonical, classifyRecipients } from './recipients.ts';
import { groupCopies, refusedRecipients, type RecipientPlan, type RefusedEnvelope } from './plan.ts';
import { encryptionRequired, planRecipients, isRefusal, type RecipientKeyFacts } from '../keys/policy.ts';
import type { Recommendation } from '../keys/autocrypt/recommend.ts';
import { inspectKey } from '../keys/key-info.ts';
import type { KeySource, KeyTrust } from '../keys/types.ts';
import { buildCopies, type SenderKeys } from './build.ts';
import type { OwnSigner, RecipientCertificate } from '../keys/smime.ts';
import type { OutboxCopyEnvelope } from './queued-copy.ts';
import { type SentRecorder, withBccHeader } from './sent-recorder.ts';
import { repliesToEncrypted } from './reply-context.ts';

/**
 * Recipient key discovery (app/keys' `KeyDiscovery` satisfies this): keyring → Autocrypt → WKD → VKS.
 * It records what it finds in the keyring itself and honours the abort signal.
 */
export interface RecipientKeyDiscovery {
  discover(
    email: string,
    opts: { signal?: AbortSignal },
  ): Promise<{
    key: openpgp.PublicKey | null;
    record?: { source: KeySource; trust: KeyTrust } | null;
    looked: string[];
    misses: string[];
    timedOut: boolean;
  }>;
}

/** Autocrypt recommendation per recipient (app/keys' AutocryptService satisfies this). */
export interface AutocryptRecommender {
  recommend(
    email: string,
    opts: { fromEmail: string; replyToEncrypted?: boolean },
  ): Promise<{ final: Recommendation }>;
}

interface FoundKey {
  key: openpgp.PublicKey | null;
  source?: KeySource;
  trust?: KeyTrust;
  looked: string[];
  problem?: string;
}

export interface OutgoingPipelineDeps {
  store: Store;
  keyring: Keyring;
  /** For Autocrypt peer state (keys seen in Autocrypt headers / gossip). */
  keyringRepo?: KeyringRepo;
  /** Full discovery (app/keys' KeyDiscovery); without it only the keyring and Autocrypt peers are used. */
  discovery?: RecipientKeyDiscovery;
  /** Autocrypt recommendations (app/keys' AutocryptService); without it keys are judged alone. */
  autocrypt?: AutocryptRecommender;
  /**
   * The user's S/MIME directory (app/keys' CertificateDirectory): certificates for recipients
   * without a held one, found, checked and kept; it never throws and bounds its own wait.
   */
  directory?: { find(emails: readonly string[]): Promise<Map<string, RecipientCertificate>> };
  settings: () => Settings;
  logger: Logger;
  /** Runs the S/MIME signing and encryption off this thread (the crypto worker pool); else in-thread. */
  engine?: Pick<CryptoEngine, 'smimeCopies'>;
  /**
   * Recipient domain check at RCPT TO (e.g. `(d) => checkDomain(d)` from app/smtp/domain-check.ts);
   * 'missing' refuses with 550, anything else accepts. Off when not given (offline, tests).
   */
  domainCheck?: (domain: string) => Promise<'exists' | 'missing' | 'unknown'>;
  /** Files Sent copies when settings.fileSentCopies is on (clients that do not APPEND their own). */
  sentRecorder?: SentRecorder;
  /** Called after every successful enqueue (wakes the relay worker). */
  onQueued?: (accountId: number) => void;
  /** Called when a refused submission was kept in the outbox as a failed item. */
  onRefused?: (accountId: number, outboxId: number, reason: string) => void;
  now?: () => number;
}

/** How a message kept in the outbox is put through the pipeline again (see `resend`). */
interface SubmitOptions {
  /** Canonical addresses sent to without encryption (as if their contact setting were 'never'). */
  unencryptedFor?: ReadonlySet<string>;
  /** The outbox item this submission replaces (removed in the commit that queues the copies). */
  replaces?: number;
  /** File the Sent copy whatever fileSentCopies says (the client's own send failed: it filed none). */
  fileSentCopy?: boolean;
}

interface CachedAutocrypt {
  fingerprint: string;
  keydata: Uint8Array;
}

/** What a submission goes through once the SMTP session is logged in (all of SubmissionPort but the login). */
export class OutgoingPipeline implements Omit<SubmissionPort, 'authenticate'> {
  readonly #d: OutgoingPipelineDeps;
  readonly #log: Logger;
  readonly #autocrypt = new Map<string, CachedAutocrypt>();
  readonly #domains = new Map<string, { v: 'exists' | 'missing' | 'unknown'; at: number }>();
  readonly #senderKeys = new Map<string, { fingerprint: string; keys: SenderKeys }>();

  constructor(deps: OutgoingPipelineDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ module: 'submission' });
  }

  async checkSender(account: AccountId, mailFrom: string, headerFrom: string[]): Promise<CheckResult> {
    const acc = this.#d.store.accounts.get(Number(account));
    if (!acc) return { ok: false, reason: 'the account no longer exists' };
    if (acc.signedOutAt !== null)
      return {
        ok: false,
        reason: `${acc.email} is signed out of its provider: sign in again (lockbridge account add) to send`,
      };
    const own = new Set(this.#addressesOf(acc.email, acc.settings));
    for (const a of [mailFrom, ...headerFrom]) {
      if (!own.has(canonical(a)))
        return { ok: false, reason: `${a} is not an address of this account (${[...own].join(', ')})` };
    }
    return { ok: true };
  }

  async checkRecipient(_account: AccountId, rcptTo: string): Promise<CheckResult> {
    if (!this.#d.domainCheck) return { ok: true };
    const domain = rcptTo.slice(rcptTo.lastIndexOf('@') + 1).toLowerCase();
    if (domain.startsWith('[')) return { ok: true };
    let verdict = this.#domains.get(domain);
    if (!verdict || verdict.at < Date.now() - 10 * 60_000) {
      verdict = { v: await this.#d.domainCheck(domain), at: Date.now() };
      if (verdict.v !== 'unknown') this.#domains.set(domain, verdict);
    }
    return verdict.v === 'missing'
      ? { ok: false, reason: `the domain ${domain} does not exist (no MX or address records)` }
      : { ok: true };
  }

  async submit(req: SubmissionRequest, opts: SubmitOptions = {}): Promise<{ queuedId: string }> {
    const started = Date.now();
    const acc = this.#d.store.accounts.get(Number(req.account));
    if (!acc) throw new SubmissionError('the account no longer exists');
    const settings = this.#d.settings();
    const senderAddr = canonical(acc.email);
    const own = this.#d.keyring.own.active(senderAddr);
    const sender = own ? await this.#senderKeysFor(own) : null;
    const smimeSender = this.#ownSigner(senderAddr);
    const autocryptField = own ? await this.#autocryptField(own) : null;

    const messageIdDomain = senderAddr.slice(senderAddr.lastIndexOf('@') + 1);
    let prepared;
    try {
      prepared = prepareMessage(req.raw, { autocryptField, messageIdDomain });
    } catch (err) {
      throw new InvalidMessageError(`cannot parse the message: ${(err as Error).message}`);
    }
    const sets = classifyRecipients(req.envelope.rcptTo, prepared.toCc);
    const all = [...sets.visible, ...sets.bcc];
    const certs = new Map<string, RecipientCertificate>();
    if (smimeSender)
      for (const addr of all) {
        const cert = await this.#certificateFor(addr);
        if (cert) certs.set(addr, cert);
      }
    // recipients without a held certificate are looked up in the S/MIME directory (when one is
    // set) beside the key lookup; it is bounded by its own timeout and never fails the message
    const unheld = smimeSender && this.#d.directory ? all.filter((a) => !certs.has(a)) : [];
    const tLookup = Date.now();
    const [found, fromDirectory] = await Promise.all([
      this.#findKeys(all, settings.keyLookupTimeoutMs),
      unheld.length ? this.#d.directory!.find(unheld) : new Map<string, RecipientCertificate>(),
    ]);
    for (const [addr, cert] of fromDirectory) certs.set(addr, cert);
    const lookupMs = Date.now() - tLookup;
    const replyToEncrypted = repliesToEncrypted(this.#d.store, acc.id, req.raw);
    const plans = await this.#plan(
      { sender: senderAddr, hasOwnKey: sender !== null, smimeSender, replyToEncrypted },
      settings,
      sets.visible,
      sets.bcc,
      { keys: found, certs },
      opts.unencryptedFor ?? new Set(),
    );
    const plan = groupCopies(plans.visible, plans.bcc);
    if (!plan.ok) {
      this.#log.info({ refused: plan.refused.length }, 'submission refused: encryption required');
      const refused = plan.refused.map((r) => ({
        address: sets.envelopeForm.get(r.address) ?? r.address,
        reason: r.reason,
      }));
      const error = new EncryptionRequiredError(refused);
      this.#keepRefused(
        acc.id,
        req,
        { refused, messageId: prepared.messageId, subject: prepared.subject },
        error,
        opts.replaces,
      );
      throw error;
    }
    if (plans.attachKey && own) {
      // the sender's key goes inside every copy (one shared payload); same Message-ID as before
      prepared = prepareMessage(req.raw, {
        autocryptField,
        messageIdDomain,
        messageId: prepared.messageId,
        attachKey: { armored: own.armoredPublic, fingerprint: own.fingerprint },
      });
    }
    const keys = new Map<string, openpgp.PublicKey>();
    for (const c of plan.copies)
      if (c.protection === 'encrypt')
        for (const r of c.recipients) {
          const k = found.get(r)?.key;
          if (k) keys.set(r, k);
        }
    const gossip = new Map<string, string>();
    for (const addr of sets.visible) {
      const k = keys.get(addr);
      if (k && sets.visible.length < 2) continue;
      if (k) gossip.set(addr, await this.#gossipValue(addr, k));
    }
    const tBuild = Date.now();
    let copies;
    try {
      copies = await buildCopies({
        base: prepared.base,
        copies: plan.copies,
        mailFrom: req.envelope.mailFrom,
        envelopeForm: sets.envelopeForm,
        keys,
        sender,
        sign: settings.sign,
        gossip,
        certificates: certs,
        smimeSender,
        ...(this.#d.engine ? { engine: this.#d.engine } : {}),
      });
    } catch (err) {
      throw new SubmissionError(`cannot sign/encrypt the message: ${(err as Error).message}`);
    }
    const buildMs = Date.now() - tBuild;
    const tStore = Date.now();
    const submission = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    let ids: number[];
    try {
      // The 250 promises durability: this one commit is flushed to disk before it returns.
      ids = this.#d.store.outbox.enqueueDurably(
        acc.id,
        copies.map((c, i) => {
          const envelope: OutboxCopyEnvelope = {
            from: c.envelope.from,
            to: c.envelope.to,
            submission,
            copy: i,
            copies: copies.length,
            kind: c.kind,
            protection: c.protection,
            messageId: prepared.messageId,
            subject: prepared.subject,
          };
          return { envelope, raw: c.raw };
        }),
        opts.replaces === undefined ? {} : { replaces: opts.replaces },
      );
    } catch (err) {
      this.#log.error({ err }, 'outbox enqueue failed');
      // a full disk is said as such (SMTP 452, naming the disk), not as a vague temporary failure
      if (isDiskFull(err)) throw err;
      throw new TemporarySubmissionError('could not store the message in the outbox');
    }
    this.#log.info(
      {
        copies: copies.map((c) => `${c.kind}:${c.protection}:${c.envelope.to.length}`).join(','),
        ms: Date.now() - started,
        lookupMs,
        buildMs,
        storeMs: Date.now() - tStore,
      },
      'submission queued',
    );
    if ((settings.fileSentCopies || opts.fileSentCopy) && this.#d.sentRecorder) {
      const bcc = sets.bcc.map((a) => sets.envelopeForm.get(a) ?? a);
      this.#d.sentRecorder.schedule(acc.id, prepared.messageId, withBccHeader(prepared.base, bcc));
    }
    this.#d.onQueued?.(acc.id);
    return { queuedId: String(ids[0]) };
  }

  /**
   * Sends a refused message kept in the outbox again, through this same pipeline (its keys looked
   * up again, the policy applied now), replacing the outbox item in the commit that queues its
   * copies. `withoutEncryption`: the recipients refused before get no encryption (signed when
   * signing is on) — refused with code 'encryption-required' when the policy (the account's, or
   * the contact's own) requires encryption to any of them. Refused again: the item stays, with the
   * new reason, and the EncryptionRequiredError is thrown.
   */
  async resend(id: number, o: { withoutEncryption: boolean }): Promise<{ queuedId: string }> {
    const item = this.#d.store.outbox.get(id);
    const raw = item ? this.#d.store.outbox.raw(id) : null;
    if (!item || !raw) throw new NotFoundError('that outbox message');
    const refused = refusedRecipients(item.envelope);
    if (!refused) throw new UserError('not-refused', 'this message was not refused by the encryption policy');
    const unencryptedFor = new Set<string>();
    if (o.withoutEncryption) {
      const policy = this.#d.settings().encryptPolicy;
      const required = refused
        .map((r) => r.address)
        .filter((a) => encryptionRequired(policy, this.#d.keyring.getContact(canonical(a))?.encrypt));
      if (required.length)
        throw new UserError(
          'encryption-required',
          `your encryption policy requires encryption to ${required.join(', ')}: the message was not sent ` +
            '(change the policy in Settings, or add their key and retry)',
        );
      for (const r of refused) unencryptedFor.add(canonical(r.address));
    }
    this.#log.info(
      { outboxId: id, withoutEncryption: o.withoutEncryption, recipients: item.envelope.to.length },
      'refused message sent again from the outbox',
    );
    try {
      return await this.submit(
        {
          account: String(item.accountId),
          envelope: { mailFrom: item.envelope.from, rcptTo: item.envelope.to },
          raw,
          smtpUtf8: item.envelope.smtpUtf8 === true,
        },
        { unencryptedFor, replaces: id, fileSentCopy: true },
      );
    } catch (err) {
      // said to the user as the SMTP client would have heard it, in one line
      if (err instanceof EncryptionRequiredError) throw new UserError('encryption-required', err.message);
      if (err instanceof SubmissionError) throw new UserError('not-sent', err.message);
      throw err;
    }
  }

  /** A refused submission is kept as a 'failed' outbox item (a resend updates its reason instead). */
  #keepRefused(
    accountId: number,
    req: SubmissionRequest,
    what: { refused: { address: string; reason: string }[]; messageId: string; subject: string },
    error: Error,
    replaces: number | undefined,
  ): void {
    try {
      if (replaces !== undefined) {
        this.#d.store.outbox.setState(replaces, 'failed', { error: error.message });
        return;
      }
      const envelope: RefusedEnvelope = {
        from: req.envelope.mailFrom,
        to: [...req.envelope.rcptTo],
        smtpUtf8: req.smtpUtf8,
        ...what,
      };
      const id = this.#d.store.outbox.recordRefused(accountId, envelope, req.raw, error.message);
      this.#d.onRefused?.(accountId, id, error.message);
    } catch (err) {
      // the client hears the refusal either way; only the outbox entry is missing
      this.#log.error({ err }, 'could not keep the refused message in the outbox');
    }
  }

  /**
   * The sending policy (app/keys/policy.ts), applied to each recipient on its own: its
   * per-recipient judgement (key expiry/revocation, Autocrypt 'discourage', contact overrides,
   * no own key) decides encrypt / sign / plain / refuse. Its To/Cc "no mixing" downgrade is NOT
   * applied: each recipient gets the copy it can read (keyed recipients encrypted, keyless ones
   * signed), which groupCopies() builds without one copy ever naming another copy's keys.
   * A key known from Autocrypt or gossip is judged by the Autocrypt Level 1 recommendation, which
   * is 'encrypt' for a reply to encrypted mail (README "Encryption: when Lockbridge encrypts").
   * A recipient with a held S/MIME certificate is encrypted to with S/MIME when the sender has an
   * own certificate and no usable OpenPGP key is held (or settings.preferredStandard is 'smime').
   */
  async #plan(
    msg: { sender: string; hasOwnKey: boolean; smimeSender: OwnSigner | null; replyToEncrypted: boolean },
    settings: Settings,
    visible: string[],
    bcc: string[],
    held: { keys: Map<string, FoundKey>; certs: Map<string, RecipientCertificate> },
    unencryptedFor: ReadonlySet<string>,
  ): Promise<{ visible: RecipientPlan[]; bcc: RecipientPlan[]; attachKey: boolean }> {
    const { sender, hasOwnKey, replyToEncrypted } = msg;
    const found = held.keys;
    const now = this.#d.now?.() ?? Date.now();
    let attachKey = false;
    const one = async (addr: string, field: 'to' | 'bcc'): Promise<RecipientPlan> => {
      const f = found.get(addr);
      let key: RecipientKeyFacts | null = null;
      if (f?.key) {
        const info = await inspectKey(f.key, new Date(now));
        key = {
          fingerprint: info.fingerprint,
          source: f.source ?? 'manual',
          trust: f.trust ?? 'unverified',
          expiresAt: info.expiresAt,
          revoked: info.revoked,
          canEncrypt: info.canEncrypt,
        };
      }
      let autocrypt: Recommendation | null = null;
      if (this.#d.autocrypt && key && (key.source === 'autocrypt' || key.source === 'gossip'))
        autocrypt = (await this.#d.autocrypt.recommend(addr, { fromEmail: sender, replyToEncrypted })).final;
      const c = this.#d.keyring.getContact(addr);
      const cert = held.certs.get(addr);
      const res = planRecipients({
        now,
        sender: { email: sender, hasKey: hasOwnKey, hasSmime: msg.smimeSender !== null },
        account: { encrypt: settings.encryptPolicy, sign: settings.sign, attachKey: settings.attachKey },
        prefer: settings.preferredStandard,
        recipients: [
          {
            email: addr,
            field,
            key,
            smime: cert ? { fingerprint: cert.fingerprint } : null,
            autocrypt,
            looked: [
              ...(f?.looked ?? ['keyring']),
              ...(f?.problem?.includes('timed out') ? ['(timed out)'] : []),
            ],
            contact: unencryptedFor.has(addr)
              ? { encrypt: 'never', sign: c?.sign ?? null, attachKey: c?.attachKey ?? null }
              : c
                ? { encrypt: c.encrypt, sign: c.sign, attachKey: c.attachKey }
                : null,
          },
        ],
      }).recipients[0]!;
      if (res.attachKey) attachKey = true;
      if (isRefusal(res.plan)) return { address: addr, refused: res.plan.reason };
      if (res.plan !== 'encrypt-sign') return { address: addr, protection: res.plan };
      return { address: addr, protection: res.standard === 'smime' ? 'smime' : 'encrypt' };
    };
    const v = await Promise.all(visible.map((a) => one(a, 'to')));
    const b = await Promise.all(bcc.map((a) => one(a, 'bcc')));
    return { visible: v, bcc: b, attachKey };
  }

  /** The sender's own S/MIME certificate and key, or null (none, or unreadable: then no S/MIME). */
  #ownSigner(addr: string): OwnSigner | null {
    try {
      return this.#d.keyring.smime?.signerFor(addr) ?? null;
    } catch (err) {
      this.#log.warn({ err }, 'the own S/MIME certificate could not be read; not used');
      return null;
    }
  }

  /** The held S/MIME certificate to encrypt to `addr` (app/keys' choice), or null. */
  async #certificateFor(addr: string): Promise<RecipientCertificate | null> {
    try {
      return (await this.#d.keyring.smime?.recipientCertificate(addr)) ?? null;
    } catch (err) {
      this.#log.warn({ err }, 'an S/MIME certificate could not be read; not used');
      return null;
    }
  }

  #addressesOf(email: string, settings: Record<string, unknown>): string[] {
    const aliases = Array.isArray(settings['aliases']) ? (settings['aliases'] as unknown[]) : [];
    return [email, ...aliases.filter((a): a is string => typeof a === 'string')].map(canonical);
  }

  async #senderKeysFor(rec: OwnKeyRecord): Promise<SenderKeys> {
    const cached = this.#senderKeys.get(rec.email);
    if (cached && cached.fingerprint === rec.fingerprint) return cached.keys;
    const privateKey = await this.#d.keyring.own.privateKey(rec);
    const publicKey = await openpgp.readKey({ armoredKey: rec.armoredPublic });
    const keys = { privateKey, publicKey };
    this.#senderKeys.set(rec.email, { fingerprint: rec.fingerprint, keys });
    return keys;
  }

  async #autocryptField(rec: OwnKeyRecord): Promise<string | null> {
    try {
      let c = this.#autocrypt.get(rec.email);
      if (!c || c.fingerprint !== rec.fingerprint) {
        const pub = await openpgp.readKey({ armoredKey: rec.armoredPublic });
        const min = await minimizeKey(pub, rec.email);
        c = { fingerprint: rec.fingerprint, keydata: min.write() };
        this.#autocrypt.set(rec.email, c);
      }
      return formatAutocryptHeader({ addr: rec.email, preferEncrypt: rec.preferEncrypt, keydata: c.keydata });
    } catch (err) {
      this.#log.warn({ err }, 'no Autocrypt header: own key cannot be minimized');
      return null;
    }
  }

  async #gossipValue(addr: string, key: openpgp.PublicKey): Promise<string> {
    const min = await minimizeKey(key, addr).catch(() => key);
    return formatAutocryptValue({ addr, keydata: min.write() });
  }

  /** Every recipient's key, looked up in parallel; the whole lookup is bounded by `timeoutMs`. */
  async #findKeys(addresses: string[], timeoutMs: number): Promise<Map<string, FoundKey>> {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeoutMs);
    try {
      const results = await Promise.all(
        addresses.map(async (addr) => {
          const timeout = new Promise<FoundKey>((resolve) =>
            ctl.signal.addEventListener('abort', () =>
              resolve({
                key: null,
                looked: ['keyring'],
                problem: `key lookup timed out after ${timeoutMs} ms`,
              }),
            ),
          );
          const lookup = this.#findKey(addr, ctl.signal).catch((err: unknown): FoundKey => ({
            key: null,
            looked: ['keyring'],
            problem: `key lookup failed: ${(err as Error).message}`,
          }));
          return [addr, await Promise.race([lookup, timeout])] as const;
        }),
      );
      return new Map(results);
    } finally {
      clearTimeout(timer);
      ctl.abort();
    }
  }

  /** Sending to one of the user's own addresses: their own active key. */
  async #ownPublicKey(addr: string): Promise<openpgp.PublicKey | null> {
    const rec = this.#d.keyring.own.active(addr);
    return rec ? (await this.#senderKeysFor(rec)).publicKey : null;
  }

  async #findKey(addr: string, signal: AbortSignal): Promise<FoundKey> {
    const own = await this.#ownPublicKey(addr);
    if (own) return { key: own, source: 'own', trust: 'verified', looked: ['keyring'] };
    if (this.#d.discovery) {
      const r = await this.#d.discovery.discover(addr, { signal });
      if (r.key)
        return {
          key: r.key,
          ...(r.record ? { source: r.record.source, trust: r.record.trust } : {}),
          looked: r.looked,
        };
      const why = r.timedOut ? 'key lookup timed out' : r.misses.slice(0, 3).join('; ');
      return {
        key: null,
        looked: r.looked,
        problem: `no OpenPGP key found (looked in ${r.looked.join(', ')}${why ? `; ${why}` : ''})`,
      };
    }
    const local = await this.#d.keyring.contacts.encryptionKeyFor(addr);
    if (local)
      return { key: local.key, source: local.record.source, trust: local.record.trust, looked: ['keyring'] };
    const peer = this.#d.keyringRepo?.getPeer(addr);
    const looked = ['keyring', 'Autocrypt'];
    for (const [data, source] of [
      [peer?.publicKey, 'autocrypt'],
      [peer?.gossipKey, 'gossip'],
    ] as const) {
      if (!data) continue;
      try {
        const key = await openpgp.readKey({ binaryKey: data });
        const usable = await key.getEncryptionKey().then(
          () => true,
          () => false,
        );
        if (usable) return { key, source, trust: 'unverified', looked };
      } catch {
        // unusable Autocrypt keydata: ignore
      }
    }
    return { key: null, looked, problem: 'no OpenPGP key found (looked in keyring, Autocrypt)' };
  }
}
