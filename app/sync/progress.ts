/** Sync progress bookkeeping: per-folder counts, bytes, rate-based ETA. */
import type { SyncProgress } from './types.ts';

export class ProgressTracker {
  phase: SyncProgress['phase'] = 'idle';
  readonly #folders = new Map<string, { total: number; synced: number }>();
  #bytes = 0;
  #startedAt = 0;
  #syncedAtStart = 0;
  #sizesKnown = false;

  begin(phase: SyncProgress['phase']): void {
    this.phase = phase;
    this.#startedAt = Date.now();
    this.#syncedAtStart = this.#synced();
  }

  /**
   * Every folder's size as the provider listed it at the start of a pass: from here on the
   * totals cover the whole sync (folders the listing did not count keep their last numbers).
   */
  knowSizes(folders: ReadonlyArray<{ name: string; total: number | null; synced: number }>): void {
    const names = new Set(folders.map((f) => f.name));
    for (const name of [...this.#folders.keys()]) if (!names.has(name)) this.#folders.delete(name);
    for (const f of folders) if (f.total !== null) this.setFolder(f.name, f.total, f.synced);
    this.#sizesKnown = folders.every((f) => f.total !== null || this.#folders.has(f.name));
  }

  setFolder(name: string, total: number, synced: number): void {
    this.#folders.set(name, { total, synced: Math.min(synced, total) });
  }

  add(name: string, count: number, bytes: number): void {
    const f = this.#folders.get(name) ?? { total: 0, synced: 0 };
    f.synced += count;
    if (f.synced > f.total) f.total = f.synced;
    this.#folders.set(name, f);
    this.#bytes += bytes;
  }

  dropFolder(name: string): void {
    this.#folders.delete(name);
  }

  #synced(): number {
    let n = 0;
    for (const f of this.#folders.values()) n += f.synced;
    return n;
  }

  snapshot(): SyncProgress {
    let total = 0;
    let synced = 0;
    const folders = [];
    for (const [name, f] of this.#folders) {
      total += f.total;
      synced += f.synced;
      folders.push({ name, total: f.total, synced: f.synced });
    }
    const elapsed = (Date.now() - this.#startedAt) / 1000;
    const done = synced - this.#syncedAtStart;
    const eta =
      this.phase !== 'idle' && done > 0 && elapsed > 0 && total > synced
        ? Math.round((total - synced) / (done / elapsed))
        : null;
    return {
      phase: this.phase,
      messagesTotal: total,
      messagesSynced: synced,
      bytesSynced: this.#bytes,
      eta,
      folders,
      sizesKnown: this.#sizesKnown,
    };
  }
}
