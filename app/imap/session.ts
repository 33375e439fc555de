/**
 * One client's IMAP session: the RFC 3501 state (not authenticated → authenticated → selected →
 * logout), the login, the selected mailbox and what the client enabled. Commands run through
 * dispatcher.ts; each lives in commands/<name>.ts.
 */
import type { ImapAccount, ImapBackend } from './backend.ts';
import type { Logger } from '../shared/logger.ts';
import type { LoginThrottle } from './throttle.ts';
import { ImapBadError } from './errors.ts';
import type { SelectedMailbox } from './tracker.ts';
import type { ResponseWriter } from './writer.ts';
import { capabilityList } from './capabilities.ts';
import type { RecentClaims } from './recent.ts';

export type SessionState = 'notAuthenticated' | 'authenticated' | 'selected' | 'logout';

export interface SessionConfig {
  backend: ImapBackend;
  logger: Logger;
  /** Allow LOGIN / AUTHENTICATE before STARTTLS (loopback only). */
  allowPlaintextLogin: boolean;
  /** A TLS context exists (STARTTLS may be offered). */
  tlsAvailable: boolean;
  /** Advertise and accept COMPRESS=DEFLATE. */
  offerCompress: boolean;
  throttle: LoginThrottle;
  /** Which session sees a new message as \Recent (shared by the server's sessions). */
  recent: RecentClaims;
  /** Longest accepted APPEND message. */
  maxMessageSize: number;
}

/** What the session needs from its connection. */
export interface Transport {
  readonly secure: boolean;
  readonly compressed: boolean;
  readonly remoteAddress: string;
  /** Upgrade to TLS (called after the tagged OK is flushed). */
  startTls(): Promise<void>;
  /** Switch both directions to DEFLATE (called after the tagged OK is flushed). */
  startCompression(): void;
  /** Read one raw line (IDLE's DONE, SASL responses). Null if the connection closed. */
  readRawLine(): Promise<string | null>;
  /** Close after flushing. */
  close(): void;
}

export class Session {
  state: SessionState = 'notAuthenticated';
  account: ImapAccount | null = null;
  selected: SelectedMailbox | null = null;
  readonly enabled = new Set<string>();
  readonly config: SessionConfig;
  readonly w: ResponseWriter;
  readonly transport: Transport;
  readonly logger: Logger;
  /** Failed logins on this connection. */
  failedLogins = 0;
  /** Say BYE and close once the current command's tagged reply is written. */
  closeAfterReply: string | null = null;
  /** Set while IDLE runs (the tracker pushes changes at once). */
  idling = false;

  constructor(config: SessionConfig, w: ResponseWriter, transport: Transport) {
    this.config = config;
    this.w = w;
    this.transport = transport;
    this.logger = config.logger;
  }

  get condstore(): boolean {
    return this.enabled.has('CONDSTORE') || this.enabled.has('QRESYNC');
  }

  /**
   * A CONDSTORE-enabling command ran (RFC 7162 §3.1). The first one in a selected mailbox is
   * answered with `* OK [HIGHESTMODSEQ n]` (SELECT/EXAMINE say it themselves).
   */
  enableCondstore(): void {
    if (this.condstore) return;
    this.enabled.add('CONDSTORE');
    if (this.selected) this.w.line(`* OK [HIGHESTMODSEQ ${this.selected.highestModseq}] Highest`);
  }

  /**
   * ENABLE IMAP4rev2 ran (RFC 9051 Appendix A): rev2 semantics for the rest of the session — no
   * \Recent, SEARCH answered with ESEARCH, UTF-8 mailbox names (see README.md in this folder).
   */
  get rev2(): boolean {
    return this.enabled.has('IMAP4rev2');
  }

  /** Mailbox names travel as UTF-8 (RFC 6855 UTF8=ACCEPT, or IMAP4rev2 §5.1). */
  get utf8(): boolean {
    return this.enabled.has('UTF8=ACCEPT') || this.rev2;
  }

  /** Login may happen on this connection now (TLS, or plaintext explicitly allowed). */
  get loginAllowed(): boolean {
    return this.transport.secure || this.config.allowPlaintextLogin;
  }

  capabilities(): string {
    return capabilityList(this).join(' ');
  }

  greeting(): void {
    this.w.line(`* OK [CAPABILITY ${this.capabilities()}] Lockbridge ready.`);
  }

  /** Tell the client queued mailbox changes (untagged EXISTS / EXPUNGE / FETCH FLAGS). */
  flushUpdates(allowExpunge: boolean): void {
    const sel = this.selected;
    if (!sel) return;
    if (sel.reset) return;
    sel.flush(this.w, allowExpunge, this.condstore, this.enabled.has('QRESYNC'));
    if (sel.contexts.behind) this.#contextsLater(sel);
  }

  #contextsScheduled = false;

  /**
   * CONTEXT=SEARCH updates not done within their slice (search/contexts.ts): go on after the event
   * loop had a turn (or the work they wait for off the event loop is done), between two lines of
   * whatever else is written, until the backlog is done.
   */
  #contextsLater(sel: SelectedMailbox): void {
    if (this.#contextsScheduled) return;
    this.#contextsScheduled = true;
    const go = (): void => {
      this.#contextsScheduled = false;
      if (this.selected !== sel || this.state === 'logout' || sel.reset) return;
      if (this.w.atLineStart) {
        sel.contexts.catchUp(this.w, sel);
        this.w.flush();
      }
      if (sel.contexts.behind) this.#contextsLater(sel);
    };
    // a text being derived off the event loop: go on once it is there
    const waiting = sel.contexts.waiting;
    if (waiting) void waiting.then(() => setImmediate(go));
    else setImmediate(go);
  }

  endForReset(): void {
    const sel = this.selected;
    if (!sel) return;
    this.w.line(
      `* BYE ${sel.reset === 'deleted' ? 'Selected mailbox was deleted' : 'Mailbox UIDVALIDITY changed'}, have to disconnect.`,
    );
    this.close();
  }

  /** Leave the selected state (CLOSE, UNSELECT, SELECT of another mailbox). */
  deselect(): void {
    if (this.selected) {
      this.selected.close();
      this.selected = null;
    }
    if (this.state === 'selected') this.state = 'authenticated';
  }

  requireAccount(): ImapAccount {
    if (!this.account) throw new ImapBadError('Not authenticated');
    return this.account;
  }

  requireSelected(): SelectedMailbox {
    if (!this.selected) throw new ImapBadError('No mailbox selected');
    return this.selected;
  }

  close(): void {
    this.deselect();
    this.state = 'logout';
    this.transport.close();
  }

  /** Connection gone: release watchers. */
  dispose(): void {
    this.deselect();
    this.state = 'logout';
  }
}
