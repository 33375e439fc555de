/** SUBSCRIBE / UNSUBSCRIBE (RFC 3501 §6.3.6-7). */
import type { CommandContext, CommandSpec } from '../command.ts';
import { AUTHED } from '../command.ts';
import { findMailbox, mailboxArg } from './mailbox-arg.ts';

function set(ctx: CommandContext, on: boolean): void {
  const name = mailboxArg(ctx.session, ctx.args);
  ctx.args.end();
  const info = findMailbox(ctx.session, name);
  ctx.session.requireAccount().setSubscribed(info.id, on);
}

export const subscribe: CommandSpec = { name: 'SUBSCRIBE', states: AUTHED, handle: (ctx) => set(ctx, true) };
export const unsubscribe: CommandSpec = {
  name: 'UNSUBSCRIBE',
  states: AUTHED,
  handle: (ctx) => set(ctx, false),
};
