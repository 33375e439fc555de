/** What the keyring parts share: storage, clock, logger, event sink, id source. */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../shared/logger.ts';
import { silentLogger } from '../shared/logger.ts';
import type { KeyringEvent, KeyringRepo } from './types.ts';
import type { SmimeRepo } from '../store/repos/smime.ts';

export interface KeyringOptions {
  repo: KeyringRepo;
  logger?: Logger;
  /** Clock in ms (tests move time). */
  now?: () => number;
  /** Receives key-change warnings etc. (the control layer forwards them as BridgeEvents). */
  onEvent?: (e: KeyringEvent) => void;
  newId?: () => string;
  /** S/MIME certificate storage (keyring.smime); without it the keyring has no S/MIME part. */
  smimeRepo?: SmimeRepo;
}

export interface KeyringDeps {
  repo: KeyringRepo;
  logger: Logger;
  now: () => number;
  emit: (e: KeyringEvent) => void;
  newId: () => string;
}

export function resolveDeps(o: KeyringOptions): KeyringDeps {
  const logger = o.logger ?? silentLogger;
  const onEvent = o.onEvent;
  return {
    repo: o.repo,
    logger,
    now: o.now ?? Date.now,
    newId: o.newId ?? randomUUID,
    emit: (e) => {
      if (!onEvent) return;
      try {
        onEvent(e);
      } catch (err) {
        logger.warn({ err, event: e.type }, 'keyring event handler failed');
      }
    },
  };
}
