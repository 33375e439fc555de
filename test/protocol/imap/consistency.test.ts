/**
 * The randomized multi-session consistency run (test/helpers/imap-consistency.ts) over the real
 * encrypted store: 12 sessions on 3 mailboxes, short. `LOCKBRIDGE_CONSISTENCY_SEED=N` replays a
 * seed's choices; `npm run bench -- imap-consistency` runs the long version.
 */
import { it } from 'node:test';
import { consistencyOverStore } from '../../helpers/imap-consistency.ts';

it('12 sessions, pipelined random commands: every model is true, and equal to the store at the end', async () => {
  const seed = Number(process.env.LOCKBRIDGE_CONSISTENCY_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const res = await consistencyOverStore({ sessions: 12, rounds: 30, seed });
  console.log(
    `seed ${seed}: ${res.commands} commands, ${res.untagged} untagged responses`,
    res.finalMessages,
  );
});
