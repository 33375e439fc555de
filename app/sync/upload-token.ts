/**
 * Idempotent uploads. Every copy the bridge APPENDs carries `X-Lockbridge-Upload: <token>` on its
 * outer header (outside any encryption; the token is random and says nothing about the message).
 * The token is recorded durably before the APPEND is sent, so when the reply is lost (a crash, a
 * cut connection, a swallowed `OK [APPENDUID]`) the next attempt finds the copy the provider kept
 * with `UID SEARCH HEADER` instead of storing it a second time, whether or not the message has a
 * Message-ID; and a sync pass that meets the copy first maps it to the local message it came from.
 */
import { randomBytes } from 'node:crypto';
import type { RemoteMailbox } from './remote/remote-mailbox.ts';

export const UPLOAD_HEADER = 'X-Lockbridge-Upload';

export function newUploadToken(): string {
  return randomBytes(18).toString('base64url');
}

/** The upload with the token header in front (the rest byte for byte as given). */
export function withUploadToken(raw: Buffer, token: string): Buffer {
  return Buffer.concat([Buffer.from(`${UPLOAD_HEADER}: ${token}\r\n`, 'latin1'), raw]);
}

const TOKEN_LINE = /^x-lockbridge-upload:[ \t]*([A-Za-z0-9_-]{16,64})[ \t]*\r?$/im;

/** The token of a message fetched from the provider (top header block only), or null. */
export function uploadTokenOf(raw: Buffer): string | null {
  let end = raw.indexOf('\r\n\r\n');
  if (end < 0) end = raw.indexOf('\n\n');
  // Headers longer than 64 KB are not ours: we put the token first.
  const head = raw.subarray(0, Math.min(end < 0 ? raw.length : end, 65536)).toString('latin1');
  const m = TOKEN_LINE.exec(head);
  return m ? m[1]! : null;
}

/** UIDs in the selected mailbox that carry this token (ascending). */
export async function findUploads(client: RemoteMailbox, token: string): Promise<number[]> {
  const found = await client.search({ header: { [UPLOAD_HEADER]: token } });
  return [...found].sort((a, b) => a - b);
}
