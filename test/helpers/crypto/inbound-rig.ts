/**
 * The product's inbound path on a real encrypted store, as sync runs it: a new store in a temp dir,
 * the keyring over it (with S/MIME unless `smime: false`), the crypto worker pool (one worker) and
 * createInboundProcessor; close() stops the pool, closes the store and removes the dir.
 */
import type { Store } from '../../../app/store/store.ts';
import { StoreKeyringRepo } from '../../../app/store/repos/keyring.ts';
import { Keyring } from '../../../app/keys/keyring.ts';
import { AutocryptService } from '../../../app/keys/autocrypt/service.ts';
import { createWorkerPool } from '../../../app/crypto/worker-pool.ts';
import { createInboundProcessor } from '../../../app/control/adapters/inbound.ts';
import type { ProcessInbound } from '../../../app/sync/types.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { newStore, tempDir } from '../../unit/store/helpers.ts';

export interface InboundRig {
  store: Store;
  keyring: Keyring;
  processInbound: ProcessInbound;
  /** Another processor on the same keyring and pool (one that has read nothing yet). */
  newProcessor(): ProcessInbound;
  close(): Promise<void>;
}

export async function startInboundRig(prefix: string, o: { smime?: boolean } = {}): Promise<InboundRig> {
  const dir = tempDir(prefix);
  const store = await newStore(dir.dir);
  const repo = new StoreKeyringRepo(store);
  const keyring = new Keyring(o.smime === false ? { repo } : { repo, smimeRepo: store.smime });
  const engine = createWorkerPool({ size: 1 });
  const newProcessor = () =>
    createInboundProcessor({
      keyring,
      autocrypt: new AutocryptService({ repo, keyring }),
      engine,
      logger: silentLogger,
    });
  return {
    store,
    keyring,
    processInbound: newProcessor(),
    newProcessor,
    async close() {
      await engine.close();
      store.close();
      dir.cleanup();
    },
  };
}
