/**
 * Serializes async work per key: `run(key, fn)` starts fn once every earlier run for the same key
 * has settled (fulfilled or rejected); different keys run concurrently. Used for one sync of a
 * remote mailbox at a time and for read-modify-write of one contact's keys. Hand-written: fifteen
 * lines, and the mutex packages add acquire/release APIs and cancellation we do not need.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const result = prev.then(() => fn());
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** Keys with work running or waiting. */
  get size(): number {
    return this.#tails.size;
  }
}
