/**
 * Test helper: S/MIME certificate managers (keys/smime.ts) each on a fresh encrypted store in one
 * temp dir (a cheap KDF, no system roots), and files written beside them; dispose() closes the
 * stores and removes the dir.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../../app/store/store.ts';
import { SmimeCertificates } from '../../../app/keys/smime.ts';
import { newStore } from '../../unit/store/helpers.ts';

export class SmimeStores {
  readonly dir: string;
  #stores: Store[] = [];

  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }

  /** A certificate manager on a new store in the subfolder `name`. */
  async open(name: string): Promise<SmimeCertificates> {
    const store = await newStore(join(this.dir, name));
    this.#stores.push(store);
    return new SmimeCertificates({ repo: store.smime, systemRoots: false });
  }

  /** Writes `data` to `name` in the dir; returns its path. */
  file(name: string, data: Uint8Array | string): string {
    const p = join(this.dir, name);
    writeFileSync(p, data);
    return p;
  }

  dispose(): void {
    for (const s of this.#stores) s.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
