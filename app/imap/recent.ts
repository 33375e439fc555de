/**
 * \Recent (RFC 3501 §2.3.2): a message is recent in exactly one session — the first to be told of
 * it with the mailbox selected read-write. The server keeps, per account and mailbox, the highest
 * UID some session has claimed; a SELECT or a new EXISTS claims the UIDs above it.
 * Kept in memory: a mailbox's first SELECT after the server starts claims nothing (what arrived
 * while the bridge was not running is not recent); everything delivered later is recent once.
 */
export class RecentClaims {
  readonly #horizon = new Map<string, number>();

  static key(username: string, mailboxId: string): string {
    return username + '\0' + mailboxId;
  }

  /** At SELECT (claim) or EXAMINE (peek): the UIDs recent for this session. */
  open(key: string, uids: ArrayLike<number>, claim: boolean): number[] {
    const last = uids.length ? uids[uids.length - 1]! : 0;
    const h = this.#horizon.get(key);
    if (h === undefined) {
      this.#horizon.set(key, last);
      return [];
    }
    const out: number[] = [];
    for (let i = uids.length - 1; i >= 0 && uids[i]! > h; i--) out.push(uids[i]!);
    out.reverse();
    if (claim && last > h) this.#horizon.set(key, last);
    return out;
  }

  /** New UIDs (ascending) told to a session: those nobody claimed yet (all of them when peeking). */
  claim(key: string, uids: readonly number[], claim: boolean): number[] {
    const h = this.#horizon.get(key) ?? 0;
    const out = uids.filter((u) => u > h);
    if (claim && out.length) this.#horizon.set(key, out[out.length - 1]!);
    return out;
  }

  /** STATUS RECENT: how many of `uids` are not claimed yet. */
  count(key: string, uids: () => ArrayLike<number>): number {
    const h = this.#horizon.get(key);
    if (h === undefined) return 0;
    const a = uids();
    let n = 0;
    for (let i = a.length - 1; i >= 0 && a[i]! > h; i--) n++;
    return n;
  }
}
