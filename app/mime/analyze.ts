/**
 * analyzeMessage(raw) → MessageAnalysis: parse a raw RFC 5322 message once (at insert time) and
 * produce the IMAP ENVELOPE / BODYSTRUCTURE / BODY strings, the part offsets, the decoded header
 * index and the full-text-search text. Pure: no I/O. (Work in progress: being filled in.)
 */
import type { MessageAnalysis } from './types.ts';

export type { MessageAnalysis, MimePart, HeaderIndex } from './types.ts';

export function analyzeMessage(raw: Uint8Array): MessageAnalysis {
  return {
    size: raw.length,
    envelope: '(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)',
    bodyStructure: '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)',
    body: '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)',
    parts: [
      {
        section: '',
        headerStart: 0,
        bodyStart: 0,
        bodyEnd: raw.length,
        contentType: 'text/plain',
        encoding: '7bit',
      },
    ],
    headers: {
      subject: '',
      from: '',
      to: '',
      cc: '',
      bcc: '',
      fromAddr: '',
      toAddr: '',
      ccAddr: '',
      date: null,
      messageId: null,
      inReplyTo: null,
      references: [],
      baseSubject: '',
    },
    text: '',
  };
}
