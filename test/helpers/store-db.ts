/**
 * The store's database, for tests that plant or inspect rows directly (damage a copy, write an
 * old schema, count what no repository reports). Product code goes through the repositories:
 * npm run layering fails when anything outside app/store reaches for these.
 */
import type { SqlDatabase } from '../../native/sqlcipher.ts';
import { STORE_SQL, type StoreDb } from '../../app/store/sql.ts';
import type { Store } from '../../app/store/store.ts';

/** The store's statement cache and write helper. */
export function storeSql(store: Store): StoreDb {
  return store[STORE_SQL];
}

/** The raw SQLCipher connection. */
export function rawDb(store: Store): SqlDatabase {
  return store[STORE_SQL].db;
}
