/**
 * The command dispatcher: for each parsed command it checks the session's state, runs the handler
 * (commands/<name>.ts), tells the client queued mailbox changes when the RFC allows, and writes the
 * tagged reply. Errors become NO/BAD in one place (error-map.ts).
 */
import { Args } from './args.ts';
import type { CommandContext, CommandSpec, Completion } from './command.ts';
import { COMMANDS } from './commands/index.ts';
import { formatReply, mapError } from './error-map.ts';
import type { Session, SessionState } from './session.ts';
import type { ParsedCommand } from './wire/types.ts';

/**
 * Called once per parsed command, strictly in order. A handler that answers synchronously (most
 * do: SELECT, FETCH, STORE, SEARCH, ...) is finished before this returns, and nothing is
 * returned; otherwise the promise of the command's end.
 */
export function execute(session: Session, cmd: ParsedCommand): Promise<void> | void {
  const { tag } = cmd;
  const w = session.w;
  let name = cmd.command;
  let args = cmd.args;
  let uid = false;
  if (name === 'UID') {
    const sub = args[0];
    if (!sub || sub.type !== 'atom') {
      w.line(`${tag} BAD Missing UID command`);
      return;
    }
    uid = true;
    name = sub.value.toUpperCase();
    args = args.slice(1);
  }
  const spec: CommandSpec | undefined = COMMANDS.get(name);
  if (!spec || (uid && !spec.uid)) {
    w.line(`${tag} BAD Unknown command${uid ? ' after UID' : ''}`);
    return;
  }
  if (!spec.states.includes(session.state)) {
    w.line(`${tag} BAD ${stateError(session.state, spec)}`);
    return;
  }
  const ctx: CommandContext = { session, w, tag, args: new Args(args), uid, name };
  let done: Completion | void | Promise<Completion | void>;
  try {
    done = spec.handle(ctx);
  } catch (err) {
    failed(ctx, spec, err);
    return;
  }
  if (done instanceof Promise) {
    return done.then(
      (d) => completed(ctx, spec, d),
      (err: unknown) => failed(ctx, spec, err),
    );
  }
  completed(ctx, spec, done);
}

function completed(ctx: CommandContext, spec: CommandSpec, done: Completion | void): void {
  const { session, tag, uid, name } = ctx;
  if (session.state === 'logout' || done?.replied) return;
  session.flushUpdates(spec.allowsExpunge ? spec.allowsExpunge(uid) : true);
  const code = done?.code ? `[${done.code}] ` : '';
  const text = done?.text ?? `${uid ? 'UID ' : ''}${titleCase(name)} completed.`;
  ctx.w.line(`${tag} OK ${code}${text}`);
  if (session.selected?.reset) session.endForReset();
}

function failed(ctx: CommandContext, spec: CommandSpec, err: unknown): void {
  const { session, w } = ctx;
  const reply = mapError(err);
  const cut = !w.atLineStart;
  // pino's err serializer keeps the stack
  if (reply.internal || cut) session.logger.error({ err, command: ctx.name }, 'IMAP command failed');
  if (cut) {
    // A response was cut in the middle: the stream can no longer be trusted.
    w.crlf();
    w.line('* BYE Internal error, closing the connection.');
    session.close();
    return;
  }
  session.flushUpdates(spec.allowsExpunge ? spec.allowsExpunge(ctx.uid) : true);
  w.line(formatReply(ctx.tag, reply));
  if (session.closeAfterReply) {
    w.line(`* BYE ${session.closeAfterReply}`);
    session.close();
  }
}

function titleCase(s: string): string {
  return s.charAt(0) + s.slice(1).toLowerCase();
}

function stateError(state: SessionState, spec: CommandSpec): string {
  const name = spec.name;
  if (state === 'notAuthenticated') return `${name} not allowed now: please log in first.`;
  if (state === 'authenticated' && spec.states.includes('selected'))
    return `${name} not allowed now: no mailbox selected.`;
  return `${name} not allowed in this state.`;
}
