/**
 * Migration runner: numbered, monotonic steps; each runs in one transaction together with the
 * `PRAGMA user_version` bump, so a crash leaves the database at the previous version.
 * A database from a newer Lockbridge is refused.
 */
import type { SqlDatabase } from '../../../native/sqlcipher.ts';
import { UserError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Migration } from './types.ts';

export class SchemaTooNewError extends UserError {
  override name = 'SchemaTooNewError';
}

export function schemaVersion(db: SqlDatabase): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export function latestVersion(migrations: readonly Migration[]): number {
  return migrations.reduce((m, x) => Math.max(m, x.version), 0);
}

/** Brings the database to the newest version; returns the versions applied. */
export function migrate(db: SqlDatabase, migrations: readonly Migration[], logger: Logger): number[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  sorted.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`migrations must be numbered 1..N without gaps (got ${m.version})`);
  });
  const latest = latestVersion(sorted);
  const current = schemaVersion(db);
  if (current > latest)
    throw new SchemaTooNewError(
      'schema-too-new',
      `this store was written by a newer Lockbridge (schema ${current} > ${latest}); upgrade Lockbridge`,
    );
  const applied: number[] = [];
  for (const m of sorted) {
    if (m.version <= current) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
    applied.push(m.version);
  }
  // one line for the whole upgrade (a new store would otherwise log one per migration)
  if (applied.length)
    logger.info(
      { from: current, to: applied[applied.length - 1], migrations: applied.length },
      current === 0 ? 'store schema created' : 'store schema migrated',
    );
  return applied;
}
