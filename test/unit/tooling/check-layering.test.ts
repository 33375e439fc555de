/**
 * `npm run layering` fails on each rule it enforces: a violation is planted in a temporary copy
 * of the sources and the checker must exit 1 naming it. The untouched copy must pass.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../../..');
const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A copy of the checked trees with `plant` applied; returns the checker's exit code and output. */
function checkWith(plant: (dir: string) => void): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lb-layering-'));
  made.push(dir);
  for (const sub of ['app', 'main', 'renderer', 'native', 'scripts'])
    cpSync(join(root, sub), join(dir, sub), {
      recursive: true,
      filter: (src) => !['node_modules', 'dist'].includes(basename(src)),
    });
  plant(dir);
  const res = spawnSync(process.execPath, [join(dir, 'scripts/check-layering.mjs')], { encoding: 'utf8' });
  return { status: res.status, out: res.stdout + res.stderr };
}

const add = (dir: string, file: string, text: string): void =>
  appendFileSync(join(dir, file), '\n' + text + '\n');

describe('npm run layering', () => {
  it('passes on the sources as they are', () => {
    const r = checkWith(() => {});
    assert.equal(r.status, 0, r.out);
  });

  const cases: { name: string; plant: (dir: string) => void; expect: RegExp }[] = [
    {
      name: 'a module no entry point reaches',
      plant: (d) => writeFileSync(join(d, 'app/mime/orphan.ts'), 'export const orphan = 1;\n'),
      expect: /app\/mime\/orphan\.ts: unreachable/,
    },
    {
      name: 'an unreachable pair that only import each other',
      plant: (d) => {
        writeFileSync(join(d, 'app/keys/a.ts'), "import { b } from './b.ts';\nexport const a = b;\n");
        writeFileSync(join(d, 'app/keys/b.ts'), "import { a } from './a.ts';\nexport const b = () => a;\n");
      },
      expect: /app\/keys\/a\.ts: unreachable[\s\S]*app\/keys\/b\.ts: unreachable/,
    },
    {
      name: 'the composition root importing the CLI',
      plant: (d) => add(d, 'app/index.ts', "import { MAIN_HELP } from './cli/help.ts';"),
      expect: /app\/index\.ts: app\/index\.ts may not import app\/cli\/help\.ts/,
    },
    {
      name: 'the composition root importing its host (a cycle)',
      plant: (d) => add(d, 'app/index.ts', "export { createBridgeHost } from './host.ts';"),
      expect: /app\/index\.ts may not import app\/host\.ts/,
    },
    {
      name: 'an unknown top-level module of app/',
      plant: (d) => {
        writeFileSync(join(d, 'app/extra.ts'), 'export const x = 1;\n');
        add(d, 'app/cli.ts', "import './extra.ts';");
      },
      expect: /app\/extra\.ts: unknown top-level module/,
    },
    {
      name: 'imap/ importing native/',
      plant: (d) =>
        add(d, 'app/imap/flags.ts', "import { openEncryptedDatabase } from '../../native/sqlcipher.ts';"),
      expect: /app\/imap\/flags\.ts: app\/imap may not import native\//,
    },
    {
      name: 'a computed import()',
      plant: (d) =>
        add(d, 'app/sync/backoff.ts', "const which = 'node:fs';\nexport const load = () => import(which);"),
      expect: /app\/sync\/backoff\.ts:\d+: computed import\(\)/,
    },
    {
      name: 'createRequire (CommonJS loading the checker cannot follow)',
      plant: (d) => add(d, 'app/store/sql.ts', "import { createRequire } from 'node:module';"),
      expect: /app\/store\/sql\.ts:\d+: computed import\(\) or createRequire/,
    },
    {
      name: 'mime/ importing worker_threads',
      plant: (d) => add(d, 'app/mime/charset.ts', "import { Worker } from 'node:worker_threads';"),
      expect: /app\/mime\/charset\.ts: app\/mime does no I\/O, but imports node:worker_threads/,
    },
    {
      name: 'crypto/ importing undici',
      plant: (d) => add(d, 'app/crypto/decrypt.ts', "import { fetch } from 'undici';"),
      expect: /app\/crypto\/decrypt\.ts: app\/crypto does no I\/O, but imports undici/,
    },
    {
      name: 'imap/wire importing a subpath of undici',
      plant: (d) => add(d, 'app/imap/wire/limits.ts', "import { Agent } from 'undici/lib/agent.js';"),
      expect: /app\/imap\/wire\/limits\.ts: app\/imap\/wire does no I\/O, but imports undici\/lib\/agent\.js/,
    },
    {
      name: 'a lower layer importing a higher one',
      plant: (d) => add(d, 'app/imap/flags.ts', "import { SyncManager } from '../sync/manager.ts';"),
      expect: /app\/imap may not import app\/sync/,
    },
    {
      name: 'a lower layer importing the control contract, even for types only',
      plant: (d) =>
        add(d, 'app/config/paths.ts', "import type { BridgeStatus } from '../control/contract.ts';"),
      expect: /app\/config\/paths\.ts: app\/config may not import app\/control/,
    },
    {
      name: 'an import cycle made of a type-only import',
      plant: (d) => add(d, 'app/sync/progress.ts', "import type { SyncContext } from './context.ts';"),
      expect: /import cycle: app\/sync\/context\.ts <-> app\/sync\/progress\.ts/,
    },
    {
      name: 'app/outgoing importing the relay above it',
      plant: (d) =>
        add(d, 'app/outgoing/plan.ts', "import { OutboxWorker } from '../sync/outbox/worker.ts';"),
      expect: /app\/outgoing\/plan\.ts: app\/outgoing may not import app\/sync/,
    },
    {
      name: 'the MIME writer imported outside app/outgoing (outgoing mail built elsewhere)',
      plant: (d) =>
        add(d, 'app/control/adapters/inbound.ts', "import { foldField } from '../../mime/build.ts';"),
      expect:
        /app\/control\/adapters\/inbound\.ts: imports app\/mime\/build\.ts: outgoing mail is built in app\/outgoing only/,
    },
    {
      name: 'a PGP/MIME builder imported outside app/outgoing',
      plant: (d) =>
        add(d, 'app/sync/backoff.ts', "import { signMessage } from '../crypto/pgp-mime-sign.ts';"),
      expect:
        /app\/sync\/backoff\.ts: imports app\/crypto\/pgp-mime-sign\.ts: outgoing mail is built in app\/outgoing only/,
    },
    {
      name: "a crypto engine's encryptMessage() called outside app/outgoing",
      plant: (d) =>
        add(
          d,
          'app/control/adapters/inbound.ts',
          'export const seal = (e: { encryptMessage(r: Buffer): Promise<Buffer> }, r: Buffer) => e.encryptMessage(r);',
        ),
      expect: /app\/control\/adapters\/inbound\.ts:\d+: \.encryptMessage\(\) outside app\/outgoing/,
    },
    {
      name: 'the SQLite binding imported outside the opener',
      plant: (d) => add(d, 'app/sync/backoff.ts', "import Database from 'better-sqlite3-multiple-ciphers';"),
      expect: /app\/sync\/backoff\.ts: only native\/sqlcipher\.ts imports better-sqlite3-multiple-ciphers/,
    },
    {
      name: "the store's database handle taken outside app/store",
      plant: (d) => add(d, 'app/control/errors.ts', "import { STORE_SQL } from '../store/sql.ts';"),
      expect: /app\/control\/errors\.ts: only app\/store may import app\/store\/sql\.ts/,
    },
    {
      name: 'a migration imported outside app/store',
      plant: (d) =>
        add(d, 'app/sync/backoff.ts', "import type { Migration } from '../store/migrations/types.ts';"),
      expect: /app\/sync\/backoff\.ts: only app\/store may import app\/store\/migrations\/types\.ts/,
    },
    {
      name: 'a statement prepared outside app/store',
      plant: (d) =>
        add(
          d,
          'app/sync/backoff.ts',
          "export const n = (db: { prepare(q: string): { get(): unknown } }) =>\n  db.prepare('SELECT count(*) FROM messages').get();",
        ),
      expect:
        /app\/sync\/backoff\.ts:\d+: \.prepare\(\) outside app\/store[\s\S]*app\/sync\/backoff\.ts:\d+: SQL outside app\/store/,
    },
    {
      name: 'a pragma set outside app/store',
      plant: (d) =>
        add(
          d,
          'app/control/errors.ts',
          "export const full = (db: { pragma(p: string): void }) => db.pragma('synchronous = FULL');",
        ),
      expect: /app\/control\/errors\.ts:\d+: \.pragma\(\) outside app\/store/,
    },
    {
      name: 'SQL text outside app/store',
      plant: (d) =>
        add(d, 'main/index.ts', "export const q = `UPDATE outbox SET state = 'sent' WHERE id = ?`;"),
      expect: /main\/index\.ts:\d+: SQL outside app\/store/,
    },
    {
      name: 'a sync module talking to imapflow instead of RemoteMailbox',
      plant: (d) => add(d, 'app/sync/replay.ts', "import type { ImapFlow } from 'imapflow';"),
      expect: /app\/sync\/replay\.ts: imports imapflow: sync talks to the provider through RemoteMailbox/,
    },
    {
      name: 'imapflow used outside app/sync',
      plant: (d) => add(d, 'app/control/errors.ts', "import { ImapFlow } from 'imapflow';"),
      expect: /app\/control\/errors\.ts: imports imapflow: sync talks to the provider through RemoteMailbox/,
    },
  ];

  for (const c of cases)
    it(`fails on ${c.name}`, () => {
      const r = checkWith(c.plant);
      assert.equal(r.status, 1, r.out);
      assert.match(r.out, c.expect);
    });
});
