/** Argument parsing for the `lockbridge` command: node:util parseArgs, errors as UsageError (exit 2). */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../shared/errors.ts';

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parse(
  argv: string[],
  options: FlagSpec,
  positionals: { min: number; max: number; usage: string },
): Parsed {
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as Parsed;
  } catch (err) {
    const msg = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(`${msg}\nusage: ${positionals.usage}`);
  }
  if (parsed.positionals.length < positionals.min)
    throw new UsageError(`missing argument\nusage: ${positionals.usage}`);
  if (parsed.positionals.length > positionals.max)
    throw new UsageError(
      `unexpected argument '${parsed.positionals[positionals.max]}'\nusage: ${positionals.usage}`,
    );
  return parsed;
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function flag(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}

export function requireStr(p: Parsed, name: string, usage: string): string {
  const v = str(p, name);
  if (v === undefined || v === '') throw new UsageError(`missing --${name}\nusage: ${usage}`);
  return v;
}

/** `HOST:PORT` (IPv6 as `[::1]:993`) → { host, port }, with a usage error naming the flag. */
export function hostPort(value: string, flagName: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 1 && port <= 65535))
    throw new UsageError(`--${flagName} must be HOST:PORT (e.g. imap.example.org:993), got '${value}'`);
  return { host: (m[1] ?? m[2]) as string, port };
}

export function portNumber(value: string | undefined, flagName: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535)
    throw new UsageError(`--${flagName} must be a port number 0-65535 (0 picks a free one), got '${value}'`);
  return Number(value);
}
