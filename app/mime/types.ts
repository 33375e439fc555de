/**
 * Shared MIME analysis types (the contract STORE and IMAP consume; see analyze.ts).
 *
 * - MessageAnalysis: everything computed once at insert time for a raw message.
 * - MimePart: byte offsets of one MIME part inside the raw message (JSON-serializable).
 * - HeaderIndex: decoded header values used by SEARCH / SORT / THREAD.
 */

export interface MessageAnalysis {
  /** raw byte length (= RFC822.SIZE) */
  size: number;
  /** IMAP ENVELOPE, serialized exactly as it goes on the wire: ("date" "subject" ((...)) ...) */
  envelope: string;
  /** IMAP BODYSTRUCTURE with extension data, serialized */
  bodyStructure: string;
  /** IMAP BODY (no extension data), serialized */
  body: string;
  /** byte offsets, so FETCH BODY[section] never re-parses (JSON-serializable) */
  parts: MimePart[];
  /** decoded (RFC 2047) values for SEARCH/SORT/THREAD */
  headers: HeaderIndex;
  /** decoded text of text/* parts (HTML tags stripped), capped at 1 MiB, for FTS */
  text: string;
}

export interface MimePart {
  /** '' = the whole message; '1', '1.2', '2.1' ... (IMAP numbering, incl. message/rfc822 nesting) */
  section: string;
  /** offset of this part's MIME header */
  headerStart: number;
  /** offset of this part's body (after the blank line) */
  bodyStart: number;
  /** end offset (exclusive) of the body (before the CRLF that precedes the boundary) */
  bodyEnd: number;
  /** lowercase 'type/subtype' */
  contentType: string;
  /** lowercase content-transfer-encoding ('7bit' default) */
  encoding: string;
  charset?: string;
}

export interface HeaderIndex {
  /** decoded display strings */
  subject: string;
  from: string;
  to: string;
  cc: string;
  bcc: string;
  /** lowercase first/joined addresses for SORT */
  fromAddr: string;
  toAddr: string;
  ccAddr: string;
  /** Date header in ms since epoch (null if missing/invalid) */
  date: number | null;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  /** RFC 5256 base subject (for SORT SUBJECT and THREAD ORDEREDSUBJECT) */
  baseSubject: string;
}
