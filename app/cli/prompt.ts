/** Secret prompts on a TTY (no echo) and the environment fallbacks the contract names. */
import { readFileSync } from 'node:fs';
import { UserError, type ErrorCode } from '../shared/errors.ts';

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

/**
 * The first line of a passphrase file (as gpg --passphrase-file reads it). An empty line is an
 * error unless `allowEmpty` (a PKCS#12 file may have an empty passphrase).
 */
export function readPassphraseFile(file: string, allowEmpty = false): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UserError('no-such-file', `cannot read the passphrase file ${file}`);
  }
  const first = text.split(/\r?\n/, 1)[0] ?? '';
  if (first === '' && !allowEmpty)
    throw new UserError('empty-secret', `the passphrase file ${file} has an empty first line`);
  return first;
}

const isCode = (err: unknown, code: ErrorCode) => err instanceof UserError && err.code === code;

/**
 * Runs `run` without a passphrase; when that needs one ('passphrase-required'), asks on a terminal
 * (no echo) and runs it again with the answer, three tries while it is wrong ('bad-passphrase').
 * Off a terminal, says how to give it. The passphrase goes only to `run`.
 */
export async function withAskedPassphrase<T>(
  run: (passphrase?: string) => Promise<T>,
  question: string,
  allowEmpty = false,
): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!isCode(err, 'passphrase-required')) throw err;
    if (!isInteractive())
      throw new UserError(
        'passphrase-required',
        `${(err as Error).message}: give it with --passphrase-file FILE, or run in a terminal to be asked`,
      );
  }
  for (let attempt = 1; ; attempt++) {
    const pass = await promptSecret(question);
    if (pass === '' && !allowEmpty)
      throw new UserError('empty-secret', 'no passphrase given: nothing imported');
    try {
      return await run(pass);
    } catch (err) {
      if (!isCode(err, 'bad-passphrase') || attempt >= 3) throw err;
      process.stderr.write('Wrong passphrase, try again.\n');
    }
  }
}
