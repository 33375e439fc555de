/**
 * Splitting a full message into its transport headers (everything that is not a content header)
 * and its content entity (Content-* headers + body) — the unit that gets signed or encrypted.
 */
import type { RawHeader } from '../mime/entity.ts';
import { parseEntity } from '../mime/entity.ts';
import { rawField } from '../mime/build.ts';
import { normalizeCrlf } from '../mime/crlf.ts';

export interface SplitMessage {
  /** non-content header fields (From, To, Subject, Received, ...), in order */
  transport: RawHeader[];
  /** Content-* header fields + blank line + body, CRLF */
  entity: Buffer;
}

export function splitMessage(raw: Buffer): SplitMessage {
  const msg = normalizeCrlf(raw);
  const ent = parseEntity(msg);
  const transport: RawHeader[] = [];
  const content: Buffer[] = [];
  for (const h of ent.headers) {
    if (h.lname.startsWith('content-')) content.push(rawField(h));
    else if (h.lname !== 'mime-version') transport.push(h);
  }
  if (!content.length) content.push(Buffer.from('Content-Type: text/plain; charset=utf-8\r\n'));
  return { transport, entity: Buffer.concat([...content, Buffer.from('\r\n'), ent.body]) };
}
