/**
 * Shapes produced by the IMAP wire reader (app/imap/wire/command-reader.ts) and consumed by the
 * IMAP session layer. The base shapes are the contract in the project's interfaces document;
 * everything added here is additive (new optional fields, one new event kind).
 */

/** One argument token of a client command. */
export type ImapToken =
  /** e.g. FLAGS, \Seen, \*, 1:*, BODY.PEEK, INBOX, [Gmail]/Sent (unquoted astring). NIL is {type:'nil'}. */
  | { type: 'atom'; value: string }
  | { type: 'nil' }
  /** A quoted string, a {n}/{n+} literal, or a ~{n} literal8 (then literal8 is true). Raw bytes. */
  | { type: 'string'; value: Buffer; literal: boolean; literal8?: boolean }
  /** ( ... ) */
  | { type: 'list'; items: ImapToken[] }
  /** [ ... ] directly after BODY / BODY.PEEK / BINARY / BINARY.PEEK / BINARY.SIZE; it is the next
   * sibling token of that atom: `BODY.PEEK[HEADER.FIELDS (A B)]` → atom, section. */
  | { type: 'section'; items: ImapToken[] }
  /** <start.length> or <start> directly after a section's ']' (next sibling of the section). */
  | { type: 'partial'; start: number; length?: number };

/**
 * A complete client command. `command` is uppercased. For the UID prefix the command is 'UID' and
 * args[0] is the sub-command atom, uppercased (e.g. {type:'atom', value:'FETCH'}).
 */
export interface ParsedCommand {
  tag: string;
  command: string;
  args: ImapToken[];
}

/** Suggested response code for an error event (the session maps it to the reply). */
export type ReaderErrorCode =
  /** A literal or the whole command exceeds a size limit: answer `TAG NO [TOOBIG] ...` (or BAD). */
  | 'TOOBIG'
  /** Syntax error: answer `TAG BAD ...` / `* BAD ...`. */
  | 'PARSE'
  /** Command line (outside literals) too long, or too deeply nested. */
  | 'LIMIT'
  /** The server-wide budget for buffered literals is used up: answer `TAG NO [LIMIT] ...`. */
  | 'BUSY';

/**
 * Events returned by CommandReader.push()/resume(), in stream order.
 *
 * Pausing: after a command event whose command is IDLE, AUTHENTICATE, STARTTLS or COMPRESS (the
 * commands after which the meaning of the following bytes depends on the server's answer), and
 * after every 'line' event, the reader PAUSES: it buffers further input and returns no events until
 * the session calls `resume()` (optionally after `expectRawLine()`, or after `discardBuffered()` /
 * `takeBuffered()` for STARTTLS / COMPRESS). Stop reading the socket while paused.
 *
 * The pausing command is always the LAST event of the batch returned. Call resume() only after that
 * command has been fully handled (e.g. `if (reader.paused && queue.length === 0)`, or compare with
 * `reader.pausedBy`), never after an earlier command of the same batch: otherwise bytes pipelined
 * after STARTTLS would be parsed as plaintext commands and run after the TLS upgrade (command
 * injection), and a DONE sent right after IDLE would be parsed as a command.
 */
export type ReaderEvent =
  | { kind: 'command'; command: ParsedCommand }
  /**
   * A synchronizing literal {n} was announced: the server must send `+ Ready for literal data`,
   * or, to refuse it before the client sends it (e.g. APPEND too big for the mailbox), call
   * `reader.rejectLiteral()` and answer the tag with NO/BAD instead. `tag`, `command` and `size`
   * are additive refinements.
   */
  | { kind: 'continue'; tag?: string; command?: string; size?: number }
  /**
   * -> `TAG BAD message` when tag is known, else `* BAD message`. fatal: close the connection
   * (after sending the reply). `code` and `command` are additive refinements.
   */
  | {
      kind: 'error';
      tag: string | null;
      message: string;
      fatal: boolean;
      code?: ReaderErrorCode;
      /** The (uppercased) command name, when it was parsed before the error. */
      command?: string;
    }
  /** A raw line requested with expectRawLine() (IDLE's DONE, AUTHENTICATE responses); no CRLF. */
  | { kind: 'line'; line: string };
