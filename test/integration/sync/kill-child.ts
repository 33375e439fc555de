// Child process for the SIGKILL test: opens the store in argv[2] and runs the sync engine for
// account argv[3] until the initial sync is complete, printing one line per committed batch.
import { openStore } from '../../../app/store/store.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { createSyncEngine } from '../../../app/sync/engine.ts';
import { connectProvider } from '../../../app/sync/remote/connect.ts';

const [dir, accountId] = process.argv.slice(2);
const store = await openStore({ dir: dir!, passphrase: 'test', logger: silentLogger, ftsIndexing: 'manual' });
const engine = createSyncEngine({
  store,
  accountId: Number(accountId),
  logger: silentLogger,
  connect: connectProvider,
  batchMessages: 20,
  idle: false,
  pollIntervalMs: 200,
});
engine.on((e) => {
  if (e.type === 'messages') process.stdout.write(`batch ${e.mailbox} ${e.count}\n`);
});
engine.start();
await engine.whenSynced(120_000);
await engine.stop();
store.close();
process.stdout.write('done\n');
