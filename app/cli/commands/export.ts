import { resolve } from 'node:path';
import { parse, requireStr, str } from '../args.ts';
import { println, type CliContext } from '../context.ts';
import { withApi } from '../session.ts';
import { ProgressBar } from '../progress.ts';

const USAGE = 'lockbridge export --account E [--mailbox NAME] DIR|FILE.mbox';

export async function runExport(ctx: CliContext, argv: string[]): Promise<number> {
  const p = parse(
    argv,
    { account: { type: 'string' }, mailbox: { type: 'string' } },
    { min: 1, max: 1, usage: USAGE },
  );
  const account = requireStr(p, 'account', USAGE);
  const mailbox = str(p, 'mailbox') ?? null;
  // relative to where the command runs (a serving bridge has another working directory)
  const target = resolve(p.positionals[0] as string);
  return withApi(ctx, async (s) => {
    const bar = new ProgressBar();
    const off = await s.onEvent((e) => {
      if (e.type === 'export-progress' && e.email === account)
        bar.update(e.exported, e.bytes, e.totalBytes, 'messages');
    });
    // Ctrl-C stops the export where it runs (in a serving bridge too), then this command ends
    // with the 'cancelled' line; a second Ctrl-C ends the command at once.
    const stop = () => void s.api.cancelExport(account).catch(() => {});
    process.once('SIGINT', stop);
    try {
      const res = await s.api.exportMessages(account, mailbox, target);
      bar.done();
      const secs = bar.elapsed;
      const rate = secs > 0 ? ` in ${secs.toFixed(1)} s (${Math.round(res.exported / secs)} messages/s)` : '';
      const what = res.format === 'mbox' ? 'mbox file' : '.eml files';
      println(
        ctx.stdout,
        `Exported ${res.exported} message(s) from ${res.folders} folder(s) to ${res.target} (${what})${rate}.`,
      );
      return 0;
    } finally {
      process.off('SIGINT', stop);
      bar.done();
      off();
    }
  });
}
