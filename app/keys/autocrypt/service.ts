/**
 * Autocrypt over the keyring: incoming headers and gossip update peer state (and record the keys
 * in the keyring, where the key-change policy applies), the outgoing header for an own address,
 * gossip headers, and recommendations for the sending policy.
 */
import * as openpgp from 'openpgp';
import type { Logger } from '../../shared/logger.ts';
import { silentLogger } from '../../shared/logger.ts';
import { canonicalAddress } from '../address.ts';
import { inspectKey } from '../key-info.ts';
import type { Keyring } from '../keyring.ts';
import type { AutocryptPeerRecord, KeyringRepo } from '../types.ts';
import { formatAutocryptHeader } from './header.ts';
import { applyGossip, readGossip } from './gossip.ts';
import { minimizeKey } from './minimize.ts';
import { type IncomingMessageFacts, effectiveDate, readIncomingAutocrypt, updatePeer } from './peer-state.ts';
import {
  type Recommendation,
  type RecommendationResult,
  combineRecommendations,
  recommendFor,
} from './recommend.ts';

export interface IncomingResult {
  skipped: string | null;
  addr: string | null;
  peerChanged: boolean;
  keyRecorded: 'added' | 'updated' | 'flagged' | 'replaced' | 'ignored' | null;
  problems: string[];
}

export class AutocryptService {
  readonly #repo: KeyringRepo;
  readonly #keyring: Keyring;
  readonly #log: Logger;

  constructor(opts: { repo: KeyringRepo; keyring: Keyring; logger?: Logger }) {
    this.#repo = opts.repo;
    this.#keyring = opts.keyring;
    this.#log = opts.logger ?? silentLogger;
  }

  /** Processes the Autocrypt headers of an incoming message (spec update rules). */
  async processIncoming(m: IncomingMessageFacts): Promise<IncomingResult> {
    const r = readIncomingAutocrypt(m);
    if (r.skip) return { skipped: r.reason, addr: null, peerChanged: false, keyRecorded: null, problems: [] };
    const problems = [...r.problems];
    let header = r.header;
    let key: openpgp.Key | null = null;
    if (header) {
      try {
        key = await openpgp.readKey({ binaryKey: header.keydata });
      } catch {
        problems.push('keydata is not an OpenPGP key');
        header = null;
      }
      if (key && key.keyPacket.version !== 4) {
        // Autocrypt v2 (v6 certificates) is not supported: ignored as if there were no header
        problems.push(`v${key.keyPacket.version} key in Autocrypt header ignored`);
        key = null;
        header = null;
      }
    }
    const prev = this.#repo.getPeer(r.addr);
    const up = updatePeer(prev, r.addr, r.effectiveDate, header);
    if (up.changed && up.peer) this.#repo.putPeer(up.peer);
    let keyRecorded: IncomingResult['keyRecorded'] = null;
    if (up.keyUpdated && key && !this.#keyring.own.addresses().includes(r.addr)) {
      const out = await this.#keyring.contacts.record(r.addr, key, 'autocrypt', { seenAt: r.effectiveDate });
      keyRecorded = out.result;
    }
    if (problems.length) this.#log.debug({ problems }, 'autocrypt header problems');
    return { skipped: null, addr: r.addr, peerChanged: up.changed, keyRecorded, problems };
  }

  /**
   * Processes Autocrypt-Gossip headers found in the root part of a decrypted message.
   * `recipients` = the To, Cc and Reply-To addresses of the message.
   */
  async processGossip(
    values: string[],
    recipients: string[],
    date: number | null,
    receivedAt: number,
  ): Promise<string[]> {
    const eff = effectiveDate(date, receivedAt);
    const { accepted } = readGossip(values, recipients);
    const own = new Set(this.#keyring.own.addresses());
    const updated: string[] = [];
    for (const h of accepted) {
      if (own.has(h.addr)) continue;
      let key: openpgp.Key;
      try {
        key = await openpgp.readKey({ binaryKey: h.keydata });
      } catch {
        continue;
      }
      if (key.keyPacket.version !== 4) continue;
      const res = applyGossip(this.#repo.getPeer(h.addr), h, eff);
      if (!res.changed) continue;
      this.#repo.putPeer(res.peer);
      await this.#keyring.contacts.record(h.addr, key, 'gossip', { seenAt: eff });
      updated.push(h.addr);
    }
    return updated;
  }

  /** The `Autocrypt:` header field for mail from `email`, or null without a usable own key. */
  async headerFor(email: string): Promise<string | null> {
    const addr = canonicalAddress(email);
    const rec = this.#keyring.own.active(addr);
    if (!rec) return null;
    const key = await openpgp.readKey({ armoredKey: rec.armoredPublic });
    const at = new Date(this.#keyring.now());
    const info = await inspectKey(key, at);
    if (!info.canEncrypt) return null;
    const min = await minimizeKey(key, addr, at);
    return formatAutocryptHeader({ addr, preferEncrypt: rec.preferEncrypt, keydata: min.write() });
  }

  /** Minimized keydata of a recipient key (for Autocrypt-Gossip headers). */
  async gossipKeydata(email: string, key: openpgp.Key): Promise<Uint8Array> {
    return (await minimizeKey(key, canonicalAddress(email), new Date(this.#keyring.now()))).write();
  }

  peer(email: string): AutocryptPeerRecord | null {
    return this.#repo.getPeer(canonicalAddress(email));
  }

  /** The recommendation for one recipient, judging the peer's keys at the current time. */
  async recommend(
    email: string,
    opts: { fromEmail: string; replyToEncrypted?: boolean },
  ): Promise<RecommendationResult> {
    const peer = this.peer(email);
    const at = new Date(this.#keyring.now());
    const usable = async (bytes: Uint8Array | null): Promise<boolean> => {
      if (!bytes) return false;
      try {
        return (await inspectKey(await openpgp.readKey({ binaryKey: bytes }), at)).canEncrypt;
      } catch {
        return false;
      }
    };
    const own = this.#keyring.own.active(opts.fromEmail);
    return recommendFor(
      {
        peer,
        publicKeyUsable: await usable(peer?.publicKey ?? null),
        gossipKeyUsable: await usable(peer?.gossipKey ?? null),
      },
      {
        ownPreferEncrypt: own?.preferEncrypt ?? 'nopreference',
        replyToEncrypted: opts.replyToEncrypted ?? false,
      },
    );
  }

  async recommendAll(
    emails: string[],
    opts: { fromEmail: string; replyToEncrypted?: boolean },
  ): Promise<{ each: Map<string, Recommendation>; combined: Recommendation }> {
    const each = new Map<string, Recommendation>();
    for (const e of emails) each.set(canonicalAddress(e), (await this.recommend(e, opts)).final);
    return { each, combined: combineRecommendations([...each.values()]) };
  }
}
