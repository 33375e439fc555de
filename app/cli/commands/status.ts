import { flag, parse } from '../args.ts';
import { println, type CliContext } from '../context.ts';
import { withApi } from '../session.ts';

export async function runStatus(ctx: CliContext, argv: string[]): Promise<number> {
  const p = parse(
    argv,
    { json: { type: 'boolean' } },
    { min: 0, max: 0, usage: 'lockbridge status [--json]' },
  );
  return withApi(ctx, async ({ api, remote }) => {
    const s = await api.status();
    if (flag(p, 'json')) {
      println(ctx.stdout, JSON.stringify({ ...s, running: remote }));
      return 0;
    }
    println(
      ctx.stdout,
      remote ? `Bridge running (IMAP ${s.ports.imap}, SMTP ${s.ports.smtp})` : 'Bridge not running',
    );
    if (s.diskFull) println(ctx.stdout, `Disk full: ${s.diskFull}`);
    if (!s.accounts.length) println(ctx.stdout, 'No accounts.');
    for (const a of s.accounts) {
      const pct = a.sync.messagesTotal
        ? Math.floor((100 * a.sync.messagesSynced) / a.sync.messagesTotal)
        : 100;
      const progress = a.sync.sizesKnown
        ? `${pct}% (${a.sync.messagesSynced}/${a.sync.messagesTotal})`
        : `(${a.sync.messagesSynced} so far; folder sizes not known yet)`;
      println(
        ctx.stdout,
        `${a.email}: ${a.connection}${a.paused ? ' (paused)' : ''}, sync ${a.sync.phase} ${progress}`,
      );
      println(
        ctx.stdout,
        `  outbox: ${a.outbox.queued} queued, ${a.outbox.failed} failed${a.lastError ? `; last error: ${a.lastError}` : ''}`,
      );
    }
    return 0;
  });
}
