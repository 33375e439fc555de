/** The shape of one IMAP command handler (one file per command under commands/). */
import type { Args } from './args.ts';
import type { Session, SessionState } from './session.ts';
import type { ResponseWriter } from './writer.ts';

export type { SessionState };

export const ANY: readonly SessionState[] = ['notAuthenticated', 'authenticated', 'selected'];
export const AUTHED: readonly SessionState[] = ['authenticated', 'selected'];
export const SELECTED: readonly SessionState[] = ['selected'];
export const NOT_AUTHED: readonly SessionState[] = ['notAuthenticated'];

export interface CommandContext {
  session: Session;
  w: ResponseWriter;
  tag: string;
  args: Args;
  /** The command was prefixed with UID. */
  uid: boolean;
  /** Upper-case command name as the client sent it (e.g. 'FETCH', 'EXAMINE'). */
  name: string;
}

/** What the tagged OK carries. */
export interface Completion {
  code?: string;
  text?: string;
  /** The handler wrote the tagged reply itself (STARTTLS, COMPRESS). */
  replied?: boolean;
}

export interface CommandSpec {
  name: string;
  states: readonly SessionState[];
  /** May be used with the UID prefix. */
  uid?: boolean;
  /**
   * Whether untagged EXPUNGE may be sent after this command (RFC 3501 §7.4.1): false for FETCH,
   * STORE, SEARCH (and SORT/THREAD) in sequence-number form. Default true.
   */
  allowsExpunge?: (uid: boolean) => boolean;
  handle(ctx: CommandContext): Completion | void | Promise<Completion | void>;
}
