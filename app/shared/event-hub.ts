/** A tiny typed publish/subscribe hub; a listener that throws never stops the others. */
export class EventHub<E> {
  readonly #listeners = new Set<(e: E) => void>();

  subscribe(listener: (e: E) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  emit(event: E): void {
    for (const l of [...this.#listeners]) {
      try {
        l(event);
      } catch {
        /* a failing subscriber must not break the publisher */
      }
    }
  }

  get size(): number {
    return this.#listeners.size;
  }
}
