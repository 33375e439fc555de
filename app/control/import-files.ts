/** Imports .eml/mbox files into an account's mailbox (the store's streaming importer), with progress events. */
import type { ImportResult } from './contract.ts';
import type { Store } from '../store/store.ts';
import type { Account } from '../store/repos/accounts.ts';
import type { Logger } from '../shared/logger.ts';
import { importFiles as storeImport } from '../store/import/importer.ts';

export interface ImportProgressEvent {
  imported: number;
  bytes: number;
  totalBytes: number | null;
}

export async function importFiles(
  store: Store,
  account: Account,
  mailbox: string,
  files: string[],
  logger: Logger,
  onProgress: (p: ImportProgressEvent) => void,
): Promise<ImportResult> {
  const res = await storeImport({
    store,
    accountId: account.id,
    mailbox,
    files,
    logger,
    onProgress: (p) => onProgress({ imported: p.count, bytes: p.bytes, totalBytes: p.totalBytes }),
  });
  logger.info({ account: account.email, imported: res.imported, skipped: res.skipped }, 'import finished');
  return { imported: res.imported, skipped: res.skipped, errors: res.errors };
}
