/** Sync progress bookkeeping: per-folder counts, bytes, rate-based ETA. */
import type { SyncProgress } from './types.ts';

export class ProgressTracker {
  phase: SyncProgress['phase'] = 'idle';
  readonly #folders = new Map<string, { total: number; synced: number }>();
  #bytes = 0;
  #startedAt = 0;
  #syncedAtStart = 0;

  begin(phase: SyncProgress['phase']): void {
    this.phase = phase;
    this.#startedAt = Date.now();
    this.#syncedAtStart = this.#synced();
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
    };
  }
}
