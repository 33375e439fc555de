/**
 * The seam to glibc's malloc_trim(0), called through koffi (an FFI library with Node-API
 * prebuilds, so nothing is compiled at install).
 *
 * Why (issue 15, `npm run bench -- imap-memory`, measured): after 30 clients' 10-minute run the V8
 * heap and malloc's in-use bytes are back to their level before it, yet RSS stayed ~20 MB higher
 * (1.15 × before): free memory glibc keeps inside its arenas, which only malloc_trim hands back
 * (its automatic trim, M_TRIM_THRESHOLD, only shrinks the top of the main heap). Measured with it,
 * called when the server goes quiet (app/shared/idle-release.ts), same seed, load ~11-15: RSS
 * after the idle 113 / 115 / 116 MB (warm-up, run 1, run 2) against 127 / 130 / 130 MB without.
 *
 * `null` where there is no glibc to trim (macOS, Windows, musl) or the binding does not load.
 */

/** Hands back to the OS what malloc holds free; true when it released some memory. */
export type ReleaseFreeMemory = () => boolean;

let loading: Promise<ReleaseFreeMemory | null> | null = null;

/** Loaded on first use (serve only): one-shot commands never load the binding. */
export function loadMallocTrim(): Promise<ReleaseFreeMemory | null> {
  loading ??= load();
  return loading;
}

async function load(): Promise<ReleaseFreeMemory | null> {
  if (process.platform !== 'linux') return null;
  try {
    // glibc only: musl has no libc.so.6 (and no malloc_trim), so the load throws there
    const koffi = await import('koffi');
    const trim = koffi.load('libc.so.6').func('int malloc_trim(size_t pad)') as (pad: number) => number;
    return () => trim(0) === 1;
  } catch {
    return null;
  }
}
