/** What one sync pass over an account's mailboxes works with (built by the engine for each pass). */
import type { Store } from '../store/store.ts';
import type { Logger } from '../shared/logger.ts';
import type { ProgressTracker } from './progress.ts';
import type { ProcessInbound } from './types.ts';

export interface SyncContext {
  store: Store;
  accountId: number;
  email: string;
  logger: Logger;
  processInbound: ProcessInbound;
  batchMessages: number;
  batchBytes: number;
  /**
   * UIDs listed at a time by the initial backfill (it widens the window where UIDs are sparse),
   * and messages whose flags are read at a time without CHANGEDSINCE (reconcileFlags).
   */
  backfillWindow: number;
  progress: ProgressTracker;
  /** True when the engine wants the current work to stop at the next batch boundary. */
  interrupted(): boolean;
  /** Called after each committed batch of new local messages. */
  onStored(mailbox: string, count: number, bytes: number): void;
}
