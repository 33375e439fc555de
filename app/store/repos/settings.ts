/** Key/value settings (JSON values). Keys starting with 'store.' are reserved for the store. */
import type { StoreDb } from '../sql.ts';

export class SettingsRepo {
  readonly #s: StoreDb;
  constructor(s: StoreDb) {
    this.#s = s;
  }

  get<T = unknown>(key: string): T | undefined {
    const r = this.#s.prepare<{ value: string }>('SELECT value FROM settings WHERE key = ?').get(key);
    return r ? (JSON.parse(r.value) as T) : undefined;
  }

  set(key: string, value: unknown): void {
    this.#s.write(() =>
      this.#s
        .prepare(
          'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
        )
        .run(key, JSON.stringify(value)),
    );
  }

  delete(key: string): void {
    this.#s.write(() => this.#s.prepare('DELETE FROM settings WHERE key = ?').run(key));
  }

  all(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const r of this.#s
      .prepare<{ key: string; value: string }>('SELECT key, value FROM settings ORDER BY key')
      .all())
      out[r.key] = JSON.parse(r.value);
    return out;
  }
}
