// The engine is SIGKILLed 10 times during the initial sync (a child process); afterwards the
// local state equals the provider's: every message once, none lost, UIDs never reused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startProvider, type Provider } from '../../helpers/provider.ts';
import { localFor, localSubjects, msg, remoteSubjects, type LocalSide } from './setup.ts';
import { openStore } from '../../../app/store/store.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { seeded } from '../../helpers/seeded.ts';

const alice = 'alice@example.test';
const CHILD = join(import.meta.dirname, 'kill-child.ts');
let p: Provider;
let local: LocalSide;
// where each kill lands is random, from one seed printed on failure
const random = seeded();

before(async () => {
  p = await startProvider({ postfix: false });
  await p.addUser(alice, 'pw');
  const gen = function* (from: number, n: number, prefix: string) {
    for (let i = from; i < from + n; i++)
      yield Buffer.from(msg(i, { subject: `${prefix} ${i}`, body: 'x'.repeat(2000) }));
  };
  await p.bulkLoad(alice, 'INBOX', gen(1, 400, 'inbox'));
  await p.bulkLoad(alice, 'Archive', gen(1000, 150, 'archive'));
  local = await localFor(p, alice);
  local.store.close(); // the children open it
});

after(async () => {
  await local?.close().catch(() => {});
  await p?.close();
});

function runChild(
  killAfterBatches: number | null,
): Promise<{ batches: number; done: boolean; code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, local.dir, String(local.accountId)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let batches = 0;
    let done = false;
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.startsWith('batch')) batches++;
        if (line === 'done') done = true;
        if (killAfterBatches !== null && batches >= killAfterBatches && !child.killed)
          // land anywhere: between batches, mid-fetch or mid-commit
          setTimeout(() => child.kill('SIGKILL'), random.int(25));
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ batches, done, code, signal }));
  });
}

test('SIGKILL during the initial sync, 10 times: then local == provider, no duplicates, no losses', () =>
  random.report(killTenTimes));

async function killTenTimes(): Promise<void> {
  let kills = 0;
  for (let i = 0; i < 10; i++) {
    const r = await runChild(1 + (i % 3));
    if (r.signal === 'SIGKILL') kills++;
    else assert.ok(r.done, `child ended without finishing: ${JSON.stringify(r)}`);
  }
  assert.ok(kills >= 8, `only ${kills} of 10 runs were killed mid-sync`);
  const final = await runChild(null);
  assert.equal(final.code, 0);
  assert.ok(final.done);

  const store = await openStore({
    dir: local.dir,
    passphrase: 'test',
    logger: silentLogger,
    ftsIndexing: 'manual',
  });
  try {
    for (const box of ['INBOX', 'Archive']) {
      const localList = localSubjects(store, local.accountId, box);
      assert.equal(new Set(localList).size, localList.length, `duplicates in ${box}`);
      assert.deepEqual(localList, await remoteSubjects(p, alice, box));
      const mb = store.mailboxes.getByName(local.accountId, box)!;
      const seen = new Set<number>();
      for (const m of store.messages.iterateMeta(mb.id)) {
        const map = store.remoteMap.forMessage(m.id);
        assert.ok(map, `unmapped local message in ${box}`);
        assert.ok(!seen.has(map.remoteUid), 'two local messages for one remote UID');
        seen.add(map.remoteUid);
      }
    }
    assert.equal(
      store.mailboxes.status(store.mailboxes.getByName(local.accountId, 'INBOX')!.id).messages,
      400,
    );
  } finally {
    store.close();
  }
}
