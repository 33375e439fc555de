import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../../../app/shared/logger.ts';
import { createStore, openStore } from '../../../app/store/store.ts';
import { FAST_KDF, fakeAnalysis, makeRaw, tempDir } from '../../unit/store/helpers.ts';
import { rawDb } from '../../helpers/store-db.ts';

const WRITER = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));
const BATCH = 40;

/** Runs the writer from batch `start` and SIGKILLs it once it reports "mid <killAt>". */
function runAndKill(dir: string, start: number, killAt: number, holdMs: number): Promise<{ done: number[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dir, String(start), String(holdMs), String(killAt)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const done: number[] = [];
    let buf = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const [what, k] = buf.slice(0, nl).split(' ');
        buf = buf.slice(nl + 1);
        if (what === 'done') done.push(Number(k));
        if (what === 'mid' && Number(k) === killAt) child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ done });
      else reject(new Error(`writer exited ${code}: ${err}`));
    });
  });
}

describe('crash safety', () => {
  const t = tempDir();
  after(t.cleanup);

  it('survives 20 SIGKILLs mid-transaction with exactly the committed batches', async () => {
    const s = await createStore({
      dir: t.dir,
      passphrase: 'crash test',
      logger: silentLogger,
      ftsIndexing: 'manual',
      kdf: FAST_KDF,
    });
    const acc = s.accounts.create({
      email: 'crash@example.org',
      imap: { host: 'h', port: 1 },
      smtp: { host: 'h', port: 2 },
      security: 'none',
      providerPassword: 'x',
    });
    const inbox = s.mailboxes.create(acc.id, 'INBOX');
    const seed = makeRaw({ subject: 'seed', body: 'seed' });
    s.messages.insert(inbox.id, { raw: seed, analysis: fakeAnalysis(seed) });
    s.close();

    let next = 0;
    for (let round = 0; round < 20; round++) {
      // even rounds: kill while the transaction is held open; odd rounds: kill with no hold (races the commit)
      const hold = round % 2 === 0 ? 100 : 0;
      const killAt = next + 1 + (round % 3);
      const { done } = await runAndKill(t.dir, next, killAt, hold);

      const st = await openStore({
        dir: t.dir,
        passphrase: 'crash test',
        logger: silentLogger,
        ftsIndexing: 'manual',
      });
      assert.equal(rawDb(st).pragma('integrity_check', { simple: true }), 'ok');
      const counts = new Map<number, number>();
      for (const r of rawDb(st).prepare('SELECT subject FROM message_blobs').all() as Array<{
        subject: string;
      }>) {
        const m = /^batch (\d+) #/.exec(r.subject);
        if (m) counts.set(Number(m[1]), (counts.get(Number(m[1])) ?? 0) + 1);
      }
      // every batch is complete or absent
      for (const [k, n] of counts) assert.equal(n, BATCH, `batch ${k} is partial (${n})`);
      // every batch reported committed is there; the one killed mid-transaction (when held) is not
      for (const k of done) assert.ok(counts.has(k), `committed batch ${k} lost`);
      if (hold > 0)
        assert.ok(!counts.has(killAt), `batch ${killAt} was killed mid-transaction but is present`);
      const present = [...counts.keys()].sort((a, b) => a - b);
      assert.deepEqual(
        present,
        Array.from({ length: present.length }, (_, i) => i),
        'batches form a prefix',
      );
      // flags written inside the same transactions agree with the batches present
      const flags = st.messages.get(inbox.id, 1)!.flags;
      const last = present[present.length - 1];
      assert.deepEqual(flags, last === undefined ? [] : [`$batch${last}`]);
      assert.equal(st.mailboxes.get(inbox.id)!.uidNext, 2 + present.length * BATCH);
      next = present.length;
      st.close();
    }
    assert.ok(next >= 20, `only ${next} batches committed over 20 rounds`);
  });
});
