/**
 * "No secret at rest or in the output": looks for passphrases, tokens and key material in every
 * file below a data directory (store, logs, config, exports) and in what the processes printed.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../../app/store/store.ts';
import { rawDb } from './store-db.ts';

/** Every file below the given directories. */
export function filesUnder(...dirs: string[]): string[] {
  return dirs.flatMap((dir) =>
    readdirSync(dir).flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? filesUnder(p) : [p];
    }),
  );
}

export interface Secret {
  /** What the failure message calls it ("passphrase", "private key"...). */
  what: string;
  /** A string is looked for as UTF-8 and as UTF-16LE; bytes as they are. */
  value: string | Buffer;
}

/**
 * Fails when any secret stands in a file below `dirs` or in one of `outputs`; returns the files
 * read, for the caller to check the scan saw what it should (the log, the store).
 */
export function assertNoSecrets(opts: { dirs: string[]; outputs?: string[]; secrets: Secret[] }): string[] {
  const needles = needlesOf(opts.secrets);
  const files = filesUnder(...opts.dirs);
  for (const f of files) {
    const bytes = readFileSync(f);
    for (const n of needles) assert.ok(!bytes.includes(n.bytes), `${n.what} in ${f}`);
  }
  for (const [i, out] of (opts.outputs ?? []).entries()) {
    const bytes = Buffer.from(out);
    for (const n of needles) assert.ok(!bytes.includes(n.bytes), `${n.what} in output ${i + 1}`);
  }
  return files;
}

/**
 * Fails when any secret stands in any column of any row of the open store (the files are
 * encrypted, so assertNoSecrets cannot see inside them): for "forgotten" secrets.
 */
export function assertNoSecretsInStore(store: Store, secrets: Secret[]): void {
  const needles = needlesOf(secrets);
  const db = rawDb(store);
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .all() as Array<{ name: string }>;
  assert.ok(
    tables.some((t) => t.name === 'accounts'),
    'the accounts table was scanned',
  );
  for (const { name } of tables)
    for (const row of db.prepare(`SELECT * FROM "${name}"`).iterate() as Iterable<Record<string, unknown>>)
      for (const [col, v] of Object.entries(row)) {
        const bytes = Buffer.isBuffer(v) ? v : typeof v === 'string' ? Buffer.from(v) : null;
        if (bytes)
          for (const n of needles) assert.ok(!bytes.includes(n.bytes), `${n.what} in ${name}.${col}`);
      }
}

function needlesOf(secrets: Secret[]): Array<{ what: string; bytes: Buffer }> {
  const needles = secrets.flatMap(({ what, value }) =>
    typeof value === 'string'
      ? [
          { what, bytes: Buffer.from(value) },
          { what: `${what} (UTF-16)`, bytes: Buffer.from(value, 'utf16le') },
        ]
      : [{ what, bytes: value }],
  );
  assert.ok(
    needles.every((n) => n.bytes.length > 0),
    'no empty secret',
  );
  return needles;
}
