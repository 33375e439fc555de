/**
 * Child process for crash-safety.test.ts: opens the store and commits batches forever. Each batch
 * k inserts BATCH messages with subject "batch k #i"; it prints "mid k" from INSIDE the
 * transaction (in batch HOLD_AT it then keeps the transaction open a while, so a SIGKILL lands mid-transaction) and
 * "done k" after the commit.
 */
import { writeSync } from 'node:fs';
import { fakeAnalysis, makeRaw, reopen } from '../../unit/store/helpers.ts';

const [dir, startArg, holdArg, holdAtArg] = process.argv.slice(2);
const BATCH = 40;
const holdMs = Number(holdArg);
const holdAt = Number(holdAtArg);

const store = await reopen(dir!, { passphrase: 'crash test' });
const account = store.accounts.getByEmail('crash@example.org')!;
const inbox = store.mailboxes.getByName(account.id, 'INBOX')!;
const filler = 'x'.repeat(8000);

for (let k = Number(startArg); ; k++) {
  store.transaction(() => {
    for (let i = 0; i < BATCH; i++) {
      const raw = makeRaw({ subject: `batch ${k} #${i}`, body: filler });
      store.messages.insert(inbox.id, { raw, analysis: fakeAnalysis(raw) });
      if (i === BATCH / 2) {
        store.messages.storeFlags(inbox.id, [1], 'replace', [`$batch${k}`]);
        writeSync(1, `mid ${k}\n`);
        if (holdMs > 0 && k === holdAt) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, holdMs);
      }
    }
  });
  writeSync(1, `done ${k}\n`);
}
