/**
 * Splitting a full message into its transport headers (everything that is not a content header)
 * and its content entity (Content-* headers + body) — the unit that gets signed or encrypted.
 */
import type { RawHeader } from './raw/headers.ts';
import { parseEntity } from './raw/headers.ts';
import { rawField } from './raw/build.ts';
import { toCRLF } from './raw/line-endings.ts';

export interface SplitMessage {
  /** non-content header fields (From, To, Subject, Received, ...), in order */
  transport: RawHeader[];
  /** Content-* header fields + blank line + body, CRLF */
  entity: Buffer;
}

export function splitMessage(raw: Buffer): SplitMessage {
  const msg = toCRLF(raw);
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
