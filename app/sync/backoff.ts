/** Exponential backoff with jitter for reconnects (1 s, 2 s, 4 s … capped). */
export class Backoff {
  readonly #base: number;
  readonly #max: number;
  #attempt = 0;
  constructor(baseMs = 1000, maxMs = 60_000) {
    this.#base = baseMs;
    this.#max = maxMs;
  }
  next(): number {
    const d = Math.min(this.#max, this.#base * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    return Math.round(d * (0.8 + Math.random() * 0.4));
  }
  reset(): void {
    this.#attempt = 0;
  }
  get attempts(): number {
    return this.#attempt;
  }
}
