/** SUBSCRIBE / UNSUBSCRIBE (RFC 3501 §6.3.6-7). */
import type { CommandContext, CommandSpec } from '../command.ts';
import { AUTHED } from '../command.ts';
import { findMailbox, mailboxArg } from './mailbox-arg.ts';

function set(ctx: CommandContext, on: boolean): void {
  const name = mailboxArg(ctx.session, ctx.args);
  ctx.args.end();
  const account = ctx.session.requireAccount();
  // UNSUBSCRIBE also takes a name kept subscribed after its mailbox was deleted.
  if (!on && !account.getMailbox(name)) {
    account.forgetSubscription(name);
    return;
  }
  const info = findMailbox(ctx.session, name);
  account.setSubscribed(info.id, on);
}

export const subscribe: CommandSpec = { name: 'SUBSCRIBE', states: AUTHED, handle: (ctx) => set(ctx, true) };
export const unsubscribe: CommandSpec = {
  name: 'UNSUBSCRIBE',
  states: AUTHED,
  handle: (ctx) => set(ctx, false),
};
