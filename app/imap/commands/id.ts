/** ID (RFC 2971): logs nothing sensitive, answers with the server's name. */
import type { CommandSpec } from '../command.ts';
import { ANY } from '../command.ts';
import { ImapBadError } from '../errors.ts';

export const id: CommandSpec = {
  name: 'ID',
  states: ANY,
  handle({ w, args }) {
    const t = args.next('ID parameters');
    if (t.type !== 'nil' && t.type !== 'list') throw new ImapBadError('Invalid ID parameters');
    args.end();
    w.line('* ID ("name" "Lockbridge")');
  },
};
