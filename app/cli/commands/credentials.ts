import { writeFileSync } from 'node:fs';
import { flag, parse, str } from '../args.ts';
import { println, type CliContext } from '../context.ts';
import { withApi } from '../session.ts';
import { UserError } from '../../shared/errors.ts';

const USAGE = 'lockbridge credentials [--json] [--cert FILE] [--reset]';

export async function runCredentials(ctx: CliContext, argv: string[]): Promise<number> {
  const p = parse(
    argv,
    { json: { type: 'boolean' }, cert: { type: 'string' }, reset: { type: 'boolean' } },
    { min: 0, max: 0, usage: USAGE },
  );
  return withApi(ctx, async ({ api }) => {
    const c = flag(p, 'reset') ? await api.resetLocalPassword() : await api.credentials();
    const cert = str(p, 'cert');
    if (cert !== undefined) {
      try {
        writeFileSync(cert, c.caPem, { mode: 0o644 });
      } catch (err) {
        throw new UserError('write-failed', `cannot write ${cert}: ${(err as Error).message}`);
      }
    }
    if (flag(p, 'json')) {
      println(ctx.stdout, JSON.stringify(c));
      return 0;
    }
    const sec = (s: string) => (s === 'tls' ? 'SSL/TLS' : s === 'starttls' ? 'STARTTLS' : 'none');
    println(ctx.stdout, `Host:      ${c.host}`);
    println(ctx.stdout, `IMAP:      port ${c.imap.port ?? '-'}, ${sec(c.imap.security)}`);
    println(ctx.stdout, `SMTP:      port ${c.smtp.port ?? '-'}, ${sec(c.smtp.security)}`);
    println(
      ctx.stdout,
      `Username:  ${c.usernames.length ? c.usernames.join(', ') : '(your account e-mail address)'}`,
    );
    println(ctx.stdout, `Password:  ${c.password}`);
    if (cert !== undefined) println(ctx.stdout, `CA certificate written to ${cert}`);
    return 0;
  });
}
