/**
 * The logging interface every module takes (the composition root passes a pino logger, tests a
 * silent one). Log structured fields, never secrets or message content.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/** One line of the in-memory ring the UI's log view and bug reports read. */
export interface LogLine {
  time: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  module?: string;
  /** The account the line is about, when it names one. */
  account?: string;
  /** The event's other fields as text (error, port, mailbox, ...); never secrets or content. */
  fields?: Record<string, string>;
}

/** What `repairAccount` found and did in one folder (numbers of messages). */
