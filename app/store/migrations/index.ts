import { migration0001 } from './0001-initial.ts';
import { migration0002 } from './0002-raw-lz4.ts';
import { migration0003 } from './0003-outbox-raw.ts';
import { migration0004 } from './0004-message-heads.ts';
import { migration0005 } from './0005-message-summaries.ts';
import { migration0006 } from './0006-mailbox-counts.ts';
import { migration0007 } from './0007-save-date.ts';
import { migration0008 } from './0008-object-ids.ts';
import { migration0009 } from './0009-body-chunks.ts';
import { migration0010 } from './0010-smime.ts';
import { migration0011 } from './0011-mailbox-ids.ts';
import { migration0012 } from './0012-thread-ids.ts';
import { migration0013 } from './0013-account-oauth.ts';
import { migration0014 } from './0014-smime-capabilities.ts';
import { migration0015 } from './0015-body-cache.ts';
import { migration0016 } from './0016-smime-origin.ts';
import { migration0017 } from './0017-remote-identity.ts';
import { migration0018 } from './0018-smime-crls.ts';
import { migration0019 } from './0019-body-cache-at-index.ts';
import { migration0020 } from './0020-account-signed-out.ts';
import { migration0021 } from './0021-unseen-index.ts';
import type { Migration } from './types.ts';

export type { Migration } from './types.ts';

/** Every schema step, in order. Append new ones; never edit a released one. */
export const MIGRATIONS: readonly Migration[] = [
  migration0001,
  migration0002,
  migration0003,
  migration0004,
  migration0005,
  migration0006,
  migration0007,
  migration0008,
  migration0009,
  migration0010,
  migration0011,
  migration0012,
  migration0013,
  migration0014,
  migration0015,
  migration0016,
  migration0017,
  migration0018,
  migration0019,
  migration0020,
  migration0021,
];
