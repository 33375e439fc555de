/**
 * Whether an outgoing message replies to an encrypted one (Autocrypt Level 1: the recommendation
 * for a reply to encrypted mail is 'encrypt', also for a key known only from gossip). The parent is
 * the message named by In-Reply-To (else the last References entry) among the account's stored
 * messages; it counts when the bridge decrypted it (its served `X-Lockbridge-Encryption: encrypted`).
 */
import { firstValue, parseHeaderBlock } from '../mime/header-block.ts';
import { parseMsgIds } from '../mime/header-index.ts';
import type { Store } from '../store/store.ts';

const ENCRYPTED = /^x-lockbridge-encryption:[ \t]*encrypted[ \t]*\r?$/im;

export function repliesToEncrypted(store: Store, accountId: number, raw: Buffer): boolean {
  const block = parseHeaderBlock(raw, 0, raw.length);
  const parent =
    parseMsgIds(firstValue(raw, block, 'in-reply-to'))[0] ??
    parseMsgIds(firstValue(raw, block, 'references')).at(-1);
  if (!parent) return false;
  return store.messages
    .blobsWithMessageId(accountId, parent)
    .some((blob) => ENCRYPTED.test(store.messages.header(blob).toString('latin1')));
}
