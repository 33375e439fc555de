import { parse, requireStr, str } from '../args.ts';
import { println, type CliContext } from '../context.ts';
import { withApi } from '../session.ts';
import { ProgressBar } from '../progress.ts';
import { UserError } from '../../shared/errors.ts';

const USAGE = 'lockbridge import --account E [--mailbox NAME] FILE...';

export async function runImport(ctx: CliContext, argv: string[]): Promise<number> {
  const p = parse(
    argv,
    { account: { type: 'string' }, mailbox: { type: 'string' } },
    { min: 1, max: 1_000_000, usage: USAGE },
  );
  const account = requireStr(p, 'account', USAGE);
  const mailbox = str(p, 'mailbox') ?? 'INBOX';
  return withApi(ctx, async (s) => {
    const bar = new ProgressBar();
    // progress events come in-process, or from the running bridge's event stream
    const off = await s.onEvent((e) => {
      if (e.type === 'import-progress' && e.email === account)
        bar.update(e.imported, e.bytes, e.totalBytes, 'messages');
    });
    try {
      const res = await s.api.importMessages(account, mailbox, p.positionals);
      bar.done();
      for (const e of res.errors) println(ctx.stderr, `  ${e}`);
      if (res.imported === 0 && res.errors.length > 0)
        throw new UserError(
          'nothing-imported',
          `nothing imported: ${res.errors.length === 1 ? res.errors[0] : 'no file held e-mail messages'}`,
        );
      const secs = bar.elapsed;
      const rate = secs > 0 ? ` in ${secs.toFixed(1)} s (${Math.round(res.imported / secs)} messages/s)` : '';
      println(
        ctx.stdout,
        `Imported ${res.imported} message(s) into ${mailbox}${res.skipped ? `, skipped ${res.skipped}` : ''}${rate}.`,
      );
      return 0;
    } finally {
      off();
    }
  });
}
