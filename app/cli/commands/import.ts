import { parse, requireStr, str } from '../args.ts';
import { println, type CliContext } from '../context.ts';
import { withApi } from '../session.ts';
import { ProgressBar } from '../progress.ts';

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
    const off = s.onEvent?.((e) => {
      if (e.type === 'import-progress') bar.update(e.imported, e.bytes, e.totalBytes, 'messages');
    });
    try {
      const res = await s.api.importMessages(account, mailbox, p.positionals);
      bar.done();
      println(
        ctx.stdout,
        `Imported ${res.imported} message(s) into ${mailbox}${res.skipped ? `, skipped ${res.skipped}` : ''}.`,
      );
      for (const e of res.errors) println(ctx.stderr, `  ${e}`);
      return 0;
    } finally {
      off?.();
    }
  });
}
