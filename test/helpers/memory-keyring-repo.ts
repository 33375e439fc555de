/**
 * An in-memory KeyringRepo for unit tests and for tools that need a throw-away keyring.
 * transaction() restores the previous state when fn throws, like a database rollback.
 */
import type {
  AutocryptPeerRecord,
  ContactKeyRecord,
  ContactRecord,
  KeyChangeRecord,
  KeyringRepo,
  OwnKeyRecord,
} from '../../app/keys/types.ts';

interface State {
  own: Map<string, OwnKeyRecord>;
  contacts: Map<string, ContactRecord>;
  contactKeys: Map<string, ContactKeyRecord>;
  changes: Map<string, KeyChangeRecord>;
  peers: Map<string, AutocryptPeerRecord>;
}

function copyState(s: State): State {
  return {
    own: new Map(s.own),
    contacts: new Map(s.contacts),
    contactKeys: new Map(s.contactKeys),
    changes: new Map(s.changes),
    peers: new Map(s.peers),
  };
}

const ckKey = (email: string, fpr: string): string => `${email}\u0000${fpr}`;

export class InMemoryKeyringRepo implements KeyringRepo {
  #s: State = {
    own: new Map(),
    contacts: new Map(),
    contactKeys: new Map(),
    changes: new Map(),
    peers: new Map(),
  };
  #depth = 0;

  listOwnKeys(email?: string): OwnKeyRecord[] {
    return [...this.#s.own.values()]
      .filter((k) => email === undefined || k.email === email)
      .sort((a, b) => a.email.localeCompare(b.email) || a.createdAt - b.createdAt)
      .map((k) => ({ ...k }));
  }
  getOwnKey(fingerprint: string): OwnKeyRecord | null {
    const k = this.#s.own.get(fingerprint);
    return k ? { ...k } : null;
  }
  putOwnKey(rec: OwnKeyRecord): void {
    this.#s.own.set(rec.fingerprint, { ...rec });
  }
  deleteOwnKey(fingerprint: string): void {
    this.#s.own.delete(fingerprint);
  }

  getContact(email: string): ContactRecord | null {
    const c = this.#s.contacts.get(email);
    return c ? { ...c } : null;
  }
  putContact(rec: ContactRecord): void {
    this.#s.contacts.set(rec.email, { ...rec });
  }
  listContacts(): ContactRecord[] {
    return [...this.#s.contacts.values()]
      .sort((a, b) => a.email.localeCompare(b.email))
      .map((c) => ({ ...c }));
  }

  listContactKeys(email?: string): ContactKeyRecord[] {
    return [...this.#s.contactKeys.values()]
      .filter((k) => email === undefined || k.email === email)
      .sort((a, b) => a.email.localeCompare(b.email) || a.firstSeen - b.firstSeen)
      .map((k) => ({ ...k }));
  }
  getContactKey(email: string, fingerprint: string): ContactKeyRecord | null {
    const k = this.#s.contactKeys.get(ckKey(email, fingerprint));
    return k ? { ...k } : null;
  }
  putContactKey(rec: ContactKeyRecord): void {
    this.#s.contactKeys.set(ckKey(rec.email, rec.fingerprint), { ...rec });
  }
  deleteContactKey(email: string, fingerprint: string): void {
    this.#s.contactKeys.delete(ckKey(email, fingerprint));
  }

  addKeyChange(rec: KeyChangeRecord): void {
    if (this.#s.changes.has(rec.id)) throw new Error(`key change ${rec.id} exists`);
    this.#s.changes.set(rec.id, { ...rec });
  }
  getKeyChange(id: string): KeyChangeRecord | null {
    const c = this.#s.changes.get(id);
    return c ? { ...c } : null;
  }
  listKeyChanges(opts: { email?: string; unresolvedOnly?: boolean } = {}): KeyChangeRecord[] {
    return [...this.#s.changes.values()]
      .filter((c) => opts.email === undefined || c.email === opts.email)
      .filter((c) => !opts.unresolvedOnly || c.resolution === null)
      .sort((a, b) => a.seenAt - b.seenAt)
      .map((c) => ({ ...c }));
  }
  putKeyChange(rec: KeyChangeRecord): void {
    this.#s.changes.set(rec.id, { ...rec });
  }

  getPeer(email: string): AutocryptPeerRecord | null {
    const p = this.#s.peers.get(email);
    return p ? { ...p } : null;
  }
  putPeer(rec: AutocryptPeerRecord): void {
    this.#s.peers.set(rec.email, { ...rec });
  }
  listPeers(): AutocryptPeerRecord[] {
    return [...this.#s.peers.values()].sort((a, b) => a.email.localeCompare(b.email)).map((p) => ({ ...p }));
  }

  transaction<T>(fn: () => T): T {
    if (this.#depth > 0) return fn();
    const before = copyState(this.#s);
    this.#depth++;
    try {
      return fn();
    } catch (err) {
      this.#s = before;
      throw err;
    } finally {
      this.#depth--;
    }
  }
}
