/**
 * Recipient key discovery, in order: local keyring → Autocrypt peer state → WKD (advanced, then
 * direct) → keys.openpgp.org (VKS by e-mail) → HKP (optional, off by default).
 *
 * - A key found on the network is recorded in the keyring with its source (so the key-change
 *   policy applies, and the next lookup is local).
 * - Network results are cached per address: a hit is re-fetched in the background once older than
 *   `hitTtlMs` (to pick up revocations, renewals, new keys); a miss is remembered for `missTtlMs`.
 * - All lookups for one message share one deadline (`timeoutMs`, the keyLookupTimeoutMs setting).
 * - The HTTP client (resolver, CAs, port) and the VKS/HKP base URLs are injectable for tests.
 */
import * as openpgp from 'openpgp';
import type { Logger } from '../../shared/logger.ts';
import { silentLogger } from '../../shared/logger.ts';
import { canonicalAddress } from '../address.ts';
import { inspectKey } from '../key-info.ts';
import type { Keyring } from '../keyring.ts';
import type { ContactKeyRecord, KeyringRepo, KeySource } from '../types.ts';
import type { HttpsClientOptions } from './https-get.ts';
import {
  type SourceContext,
  type SourceResult,
  WKD_SKIP_DOMAINS,
  lookupHkp,
  lookupVks,
  lookupWkd,
  wkdApplies,
} from './sources.ts';

export interface DiscoveryOptions {
  keyring: Keyring;
  repo: KeyringRepo;
  http?: HttpsClientOptions;
  /** Default https://keys.openpgp.org */
  vksBaseUrl?: string;
  /** HKP server base URL (https://...); used only when sources.hkp is on. */
  hkpBaseUrl?: string;
  sources?: { autocrypt?: boolean; wkd?: boolean; vks?: boolean; hkp?: boolean };
  wkdSkipDomains?: readonly string[];
  /** Default per-message bound (ms), default 5000. */
  timeoutMs?: number;
  hitTtlMs?: number;
  missTtlMs?: number;
  logger?: Logger;
}

/** Where discovery looked, in order, for messages the user can act on. */
export type LookedIn = 'keyring' | 'Autocrypt' | 'WKD' | 'keys.openpgp.org' | 'HKP';

export interface DiscoveryResult {
  email: string;
  key: openpgp.PublicKey | null;
  record: ContactKeyRecord | null;
  source: KeySource | null;
  looked: LookedIn[];
  /** Per-source reasons for misses (diagnostics, no secrets). */
  misses: string[];
  timedOut: boolean;
  fromCache: boolean;
}

interface CacheEntry {
  at: number;
  found: boolean;
}

/** The part of a result that says no key was found for the address. */
function noKey(email: string): Pick<DiscoveryResult, 'email' | 'key' | 'record' | 'source'> {
  return { email, key: null, record: null, source: null };
}

export class KeyDiscovery {
  readonly #o: Required<Omit<DiscoveryOptions, 'logger' | 'http' | 'hkpBaseUrl'>> & {
    http: HttpsClientOptions;
    hkpBaseUrl: string | null;
    logger: Logger;
  };
  readonly #cache = new Map<string, CacheEntry>();
  readonly #inflight = new Map<string, Promise<DiscoveryResult>>();
  readonly #background = new Set<Promise<unknown>>();

  constructor(o: DiscoveryOptions) {
    this.#o = {
      keyring: o.keyring,
      repo: o.repo,
      http: o.http ?? {},
      vksBaseUrl: o.vksBaseUrl ?? 'https://keys.openpgp.org',
      hkpBaseUrl: o.hkpBaseUrl ?? null,
      sources: { autocrypt: true, wkd: true, vks: true, hkp: false, ...(o.sources ?? {}) },
      wkdSkipDomains: o.wkdSkipDomains ?? WKD_SKIP_DOMAINS,
      timeoutMs: o.timeoutMs ?? 5000,
      hitTtlMs: o.hitTtlMs ?? 24 * 3600_000,
      missTtlMs: o.missTtlMs ?? 15 * 60_000,
      logger: o.logger ?? silentLogger,
    };
  }

  /** Discovers the keys of all recipients of one message within one deadline. */
  async discoverAll(
    emails: string[],
    opts: { timeoutMs?: number } = {},
  ): Promise<Map<string, DiscoveryResult>> {
    const signal = AbortSignal.timeout(opts.timeoutMs ?? this.#o.timeoutMs);
    const uniq = [...new Set(emails.map((e) => canonicalAddress(e)))];
    const results = await Promise.all(uniq.map((e) => this.discover(e, { signal })));
    return new Map(results.map((r) => [r.email, r]));
  }

  /** Discovers one address's encryption key. `signal` bounds the network part. */
  async discover(
    email: string,
    opts: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<DiscoveryResult> {
    const addr = canonicalAddress(email);
    const signal = opts.signal ?? AbortSignal.timeout(opts.timeoutMs ?? this.#o.timeoutMs);
    const running = this.#inflight.get(addr);
    if (running) return running;
    const p = this.#discover(addr, signal).finally(() => this.#inflight.delete(addr));
    this.#inflight.set(addr, p);
    return p;
  }

  /** Resolves when background refreshes have finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#background.size) await Promise.allSettled([...this.#background]);
  }

  /** Forgets cached network results (e.g. after the user changed discovery settings). */
  clearCache(): void {
    this.#cache.clear();
  }

  async #discover(addr: string, signal: AbortSignal): Promise<DiscoveryResult> {
    const { keyring } = this.#o;
    const looked: LookedIn[] = ['keyring'];
    const misses: string[] = [];
    const local = await keyring.contacts.encryptionKeyFor(addr);
    if (local) {
      this.#maybeRefresh(addr, local.record.source);
      return {
        email: addr,
        key: local.key,
        record: local.record,
        source: local.record.source,
        looked,
        misses,
        timedOut: false,
        fromCache: false,
      };
    }
    if (this.#o.sources.autocrypt) {
      looked.push('Autocrypt');
      const fromPeer = await this.#fromPeer(addr);
      if (fromPeer) return { ...fromPeer, looked, misses, timedOut: false, fromCache: false };
    }
    const network = this.#networkSources(addr);
    looked.push(...network);
    if (network.length === 0) return { ...noKey(addr), looked, misses, timedOut: false, fromCache: false };
    const cached = this.#cache.get(addr);
    if (cached && !cached.found && keyring.now() - cached.at < this.#o.missTtlMs) {
      const recent = ['recent lookup found nothing'];
      return { ...noKey(addr), looked, misses: recent, timedOut: false, fromCache: true };
    }
    const net = await this.#network(addr, signal);
    return { ...net, looked, fromCache: false };
  }

  #networkSources(addr: string): LookedIn[] {
    const s = this.#o.sources;
    const out: LookedIn[] = [];
    if (s.wkd && wkdApplies(addr, this.#o.wkdSkipDomains)) out.push('WKD');
    if (s.vks) out.push('keys.openpgp.org');
    if (s.hkp && this.#o.hkpBaseUrl) out.push('HKP');
    return out;
  }

  async #network(addr: string, signal: AbortSignal): Promise<Omit<DiscoveryResult, 'looked' | 'fromCache'>> {
    const ctx: SourceContext = { http: this.#o.http, signal, at: new Date(this.#o.keyring.now()) };
    const misses: string[] = [];
    let timedOut = false;
    for (const src of this.#networkSources(addr)) {
      if (signal.aborted) {
        timedOut = true;
        break;
      }
      let r: SourceResult;
      let source: KeySource;
      if (src === 'WKD') {
        r = await lookupWkd(addr, ctx);
        source = 'wkd';
      } else if (src === 'keys.openpgp.org') {
        r = await lookupVks(addr, this.#o.vksBaseUrl, ctx);
        source = 'vks';
      } else {
        r = await lookupHkp(addr, this.#o.hkpBaseUrl!, ctx);
        source = 'hkp';
      }
      if (r.found) {
        const out = await this.#o.keyring.contacts.record(addr, r.key, source);
        this.#cache.set(addr, { at: this.#o.keyring.now(), found: true });
        this.#o.logger.info({ source, result: out.result }, 'recipient key discovered');
        // the key-change policy decides what is used: re-read the usable key
        const use = await this.#o.keyring.contacts.encryptionKeyFor(addr);
        return {
          email: addr,
          key: use?.key ?? null,
          record: use?.record ?? null,
          source: use?.record.source ?? null,
          misses,
          timedOut: false,
        };
      }
      misses.push(`${src}: ${r.reason}`);
      // a revoked/expired copy of a key we already hold: merge it so the revocation is honoured
      for (const k of r.unusable ?? []) {
        if (this.#o.repo.getContactKey(addr, k.getFingerprint().toUpperCase()))
          await this.#o.keyring.contacts.record(addr, k, source);
      }
      if (r.timedOut) {
        timedOut = true;
        break;
      }
    }
    this.#cache.set(addr, { at: this.#o.keyring.now(), found: false });
    return { ...noKey(addr), misses, timedOut };
  }

  async #fromPeer(
    addr: string,
  ): Promise<Omit<DiscoveryResult, 'looked' | 'misses' | 'timedOut' | 'fromCache'> | null> {
    const peer = this.#o.repo.getPeer(addr);
    if (!peer) return null;
    const at = new Date(this.#o.keyring.now());
    for (const [bytes, source] of [
      [peer.publicKey, 'autocrypt'],
      [peer.gossipKey, 'gossip'],
    ] as const) {
      if (!bytes) continue;
      try {
        const key = await openpgp.readKey({ binaryKey: bytes });
        if (!(await inspectKey(key, at)).canEncrypt) continue;
        await this.#o.keyring.contacts.record(addr, key, source);
        const use = await this.#o.keyring.contacts.encryptionKeyFor(addr);
        if (use) return { email: addr, key: use.key, record: use.record, source: use.record.source };
      } catch {
        // unreadable peer key: try the next
      }
    }
    return null;
  }

  /** Background re-fetch of a network-sourced key once its cache entry is older than hitTtlMs. */
  #maybeRefresh(addr: string, source: KeySource): void {
    if (source !== 'wkd' && source !== 'vks' && source !== 'hkp') return;
    const c = this.#cache.get(addr);
    const now = this.#o.keyring.now();
    if (c && now - c.at < this.#o.hitTtlMs) return;
    if (!c) {
      // first sight in this process (e.g. after a restart): start the clock, refresh later
      this.#cache.set(addr, { at: now, found: true });
      return;
    }
    this.#cache.set(addr, { at: now, found: true });
    const p = this.#network(addr, AbortSignal.timeout(this.#o.timeoutMs * 4))
      .catch((err: unknown) => this.#o.logger.warn({ err }, 'background key refresh failed'))
      .finally(() => this.#background.delete(p));
    this.#background.add(p);
  }
}
