/**
 * message_raw.compression may now be 2 (LZ4 block with a length prefix, app/store/repos/lz4-block.ts)
 * besides 0 (as is) and 1 (deflate-raw). No table changes and no rewrite: bodies already stored
 * stay as they are and are still read (old databases stay readable); only new small bodies
 * (1–4 KiB) use LZ4.
 * The version bump is what matters: an older Lockbridge, which cannot decode LZ4, refuses this
 * store (schema too new) instead of failing on the first FETCH of a new message.
 */
import type { Migration } from './types.ts';

export const migration0002: Migration = {
  version: 2,
  name: 'raw-lz4',
  up() {
    // nothing to change in the schema (see above)
  },
};
