/** IDLE (RFC 2177): changes are pushed at once until the client sends DONE. */
import type { CommandSpec } from '../command.ts';
import { AUTHED } from '../command.ts';
import { ImapBadError } from '../errors.ts';

export const idle: CommandSpec = {
  name: 'IDLE',
  states: AUTHED,
  async handle({ session, w, args }) {
    args.end();
    w.line('+ idling');
    session.flushUpdates(true);
    await w.drain();
    const sel = session.selected;
    if (sel) {
      sel.onChange = () => {
        if (sel.reset) {
          session.endForReset();
          return;
        }
        // Deliver after the committing call returns (the backend calls watchers synchronously).
        queueMicrotask(() => {
          if (session.selected !== sel) return;
          session.flushUpdates(true);
          w.flush();
        });
      };
    }
    session.idling = true;
    let line: string | null;
    try {
      line = await session.transport.readRawLine();
    } finally {
      session.idling = false;
      if (sel) sel.onChange = null;
    }
    if (line === null) return { replied: true };
    if (line.trim().toUpperCase() !== 'DONE') throw new ImapBadError('Expected DONE.');
    return { text: 'Idle completed.' };
  },
};
