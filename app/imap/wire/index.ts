/** The IMAP wire layer: parsing of client commands and the small grammar pieces. No I/O. */
export type { ImapToken, ParsedCommand, ReaderEvent, ReaderErrorCode } from './types.ts';
export { CommandReader, DEFAULT_PAUSE_AFTER } from './command-reader.ts';
export type { ReaderOptions } from './command-reader.ts';
export { DEFAULT_WIRE_LIMITS, MAX_UINT32, resolveLimits } from './limits.ts';
export type { WireLimits } from './limits.ts';
export { encodeMUtf7, decodeMUtf7, isValidMUtf7, MUtf7Error } from './mutf7.ts';
export { SequenceSet, ResolvedSet, SequenceSetError, STAR } from './sequence-set.ts';
export {
  parseImapDateTime,
  formatImapDateTime,
  parseImapDate,
  formatImapDate,
  imapDateStart,
  ImapDateError,
} from './datetime.ts';
export type { ImapDateTime, ImapDate } from './datetime.ts';
