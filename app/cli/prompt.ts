/** Secret prompts on a TTY (no echo) and the environment fallbacks the contract names. */
import { UserError } from '../shared/errors.ts';

export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

export function promptSecret(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    // no echo before the question shows: what is typed once it is visible must not be echoed
    stdin.setRawMode?.(true);
    stdin.resume();
    process.stderr.write(question);
    let value = '';
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new UserError('cancelled', 'cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}

/** A secret from `envName`, else a prompt on a TTY, else a clear error. */
export async function secretFrom(envName: string, question: string, what: string): Promise<string> {
  const env = process.env[envName];
  if (env !== undefined && env !== '') return env;
  if (isInteractive()) {
    const v = await promptSecret(question);
    if (v === '') throw new UserError('empty-secret', `${what} must not be empty`);
    return v;
  }
  throw new UserError('no-secret', `${what} needed: set ${envName} or run in a terminal`);
}

export async function confirm(question: string): Promise<boolean> {
  if (!isInteractive()) return false;
  process.stderr.write(`${question} [y/N] `);
  return new Promise((resolve) => {
    process.stdin.resume();
    process.stdin.once('data', (d: Buffer) => {
      process.stdin.pause();
      resolve(/^y(es)?$/i.test(d.toString().trim()));
    });
  });
}
