import { readFileSync } from 'node:fs';
import { flag, hostPort, parse, requireStr, str, type Parsed } from '../args.ts';
import { oauthSignIn } from '../oauth-signin.ts';
import { println, type CliContext } from '../context.ts';
import { withApi } from '../session.ts';
import { discoverProviderSettings, discoveryDepsFromEnv } from '../../control/provider-discovery.ts';
import { profileForEmail } from '../../oauth/core/profiles.ts';
import { confirm, secretFrom } from '../prompt.ts';
import { UsageError, UserError } from '../../shared/errors.ts';
import type { AccountInfo, ControlApi, FolderRepair, SecurityMode } from '../../control/contract.ts';

const ADD =
  'lockbridge account add --email E --imap HOST:PORT --smtp HOST:PORT [--security starttls|tls|none] [--user U] [--ca FILE]\n' +
  '       lockbridge account add --email E --oauth auto|google|microsoft|yahoo|aol|fastmail|oidc [--issuer URL] [--client-id ID] [--client-secret-file F] [--scope S]... [--imap HOST:PORT --smtp HOST:PORT --security S] [--ca FILE]';

function readCa(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserError('no-such-file', `cannot read the CA file ${path}`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    throw new UserError('bad-ca', `${path} is not a PEM certificate`);
  return text;
}

/** Whether `email` is a signed-out account (adding it signs it in again, keeping its local mail). */
async function signedOut(api: ControlApi, email: string): Promise<boolean> {
  const a = (await api.listAccounts()).find((x) => x.email.toLowerCase() === email.toLowerCase());
  return a?.signedOut === true;
}

/** What `account add` did: added, or signed a signed-out account in again. */
function addedLine(info: AccountInfo, again: boolean, how: string): string {
  return again
    ? `Signed in again as ${info.email}; its local mail is kept and sync resumes (${how}).`
    : `Added ${info.email} (${how}).`;
}

async function add(ctx: CliContext, argv: string[]): Promise<number> {
  const p = parse(
    argv,
    {
      email: { type: 'string' },
      imap: { type: 'string' },
      smtp: { type: 'string' },
      security: { type: 'string' },
      user: { type: 'string' },
      ca: { type: 'string' },
      oauth: { type: 'string' },
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret-file': { type: 'string' },
      scope: { type: 'string', multiple: true },
    },
    { min: 0, max: 0, usage: ADD },
  );
  const email = requireStr(p, 'email', ADD);
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))
    throw new UsageError(`--email must be an e-mail address, got '${email}'`);
  if (str(p, 'oauth') !== undefined) return addOAuth(ctx, p, email);
  const imap = hostPort(requireStr(p, 'imap', ADD), 'imap');
  const smtp = hostPort(requireStr(p, 'smtp', ADD), 'smtp');
  const security = (str(p, 'security') ?? 'tls') as SecurityMode;
  if (!['starttls', 'tls', 'none'].includes(security))
    throw new UsageError(`--security must be starttls, tls or none, got '${security}'`);
  const caPem = str(p, 'ca') !== undefined ? readCa(str(p, 'ca') as string) : undefined;
  const password = await secretFrom(
    'LOCKBRIDGE_PROVIDER_PASSWORD',
    `Provider password for ${email}: `,
    'the provider password',
  );
  return withApi(ctx, async ({ api }) => {
    const user = str(p, 'user');
    const again = await signedOut(api, email);
    const info = await api.addAccount({
      email,
      imap,
      smtp,
      security,
      password,
      ...(user ? { username: user } : {}),
      ...(caPem ? { caPem } : {}),
    });
    println(ctx.stdout, addedLine(info, again, `login verified at ${info.imap.host}:${info.imap.port}`));
    return 0;
  });
}

/** The OAuth 2.0 sign-in: the browser flow first, then the account is verified and saved. */
async function addOAuth(ctx: CliContext, p: Parsed, email: string): Promise<number> {
  // `--oauth auto` (or an empty value): the profile of the address's domain, else the one the
  // provider's discovery names (a Google Workspace or Microsoft 365 domain of one's own: its
  // autoconfig file offers OAuth2 for imap.gmail.com / outlook.office365.com), as the UI does
  const named = str(p, 'oauth');
  let profile = named && named !== 'auto' ? named : undefined;
  const found =
    profile === undefined && !profileForEmail(email)
      ? await discoverProviderSettings(email, discoveryDepsFromEnv()).catch(() => null)
      : null;
  if (found?.oauth) {
    profile = found.oauth;
    println(
      ctx.stdout,
      `${email.slice(email.lastIndexOf('@') + 1)} signs in with ${found.oauthName ?? found.oauth}.`,
    );
  }
  const hosts = found?.oauth ? found : null;
  const signIn = await oauthSignIn({
    email,
    profile,
    issuer: str(p, 'issuer'),
    clientId: str(p, 'client-id'),
    clientSecretFile: str(p, 'client-secret-file'),
    scopes: (p.values.scope as string[] | undefined) ?? [],
    stdout: ctx.stdout,
  });
  const imapArg = str(p, 'imap');
  const smtpArg = str(p, 'smtp');
  const imap = imapArg ? hostPort(imapArg, 'imap') : (hosts?.imap ?? signIn.imap);
  const smtp = smtpArg ? hostPort(smtpArg, 'smtp') : (hosts?.smtp ?? signIn.smtp);
  if (!imap || !smtp)
    throw new UsageError('this provider has no profile: give --imap HOST:PORT and --smtp HOST:PORT');
  const security = (str(p, 'security') ?? hosts?.security ?? signIn.imap?.security ?? 'tls') as SecurityMode;
  if (!['starttls', 'tls', 'none'].includes(security))
    throw new UsageError(`--security must be starttls, tls or none, got '${security}'`);
  const caPem = str(p, 'ca') !== undefined ? readCa(str(p, 'ca') as string) : undefined;
  return withApi(ctx, async ({ api }) => {
    const user = str(p, 'user');
    const again = await signedOut(api, email);
    const info = await api.addAccount({
      email,
      imap: { host: imap.host, port: imap.port },
      smtp: { host: smtp.host, port: smtp.port },
      security,
      oauth: signIn.credential,
      ...(user ? { username: user } : {}),
      ...(caPem ? { caPem } : {}),
    });
    println(
      ctx.stdout,
      addedLine(
        info,
        again,
        `signed in with OAuth: ${signIn.credential.profile}; verified at ${info.imap.host}:${info.imap.port} and ${info.smtp.host}:${info.smtp.port}`,
      ),
    );
    return 0;
  });
}

const SIGNIN =
  'lockbridge account signin E [--oauth PROFILE] [--issuer URL] [--client-id ID] [--client-secret-file F] [--scope S]...';

/**
 * Signs an OAuth account in again ("sign in again" in status) — the same browser flow
 * as add, with the profile, issuer, client id and scopes the account used unless given; the
 * account and its local mail stay, sync resumes at once.
 */
async function signin(ctx: CliContext, argv: string[]): Promise<number> {
  const p = parse(
    argv,
    {
      oauth: { type: 'string' },
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret-file': { type: 'string' },
      scope: { type: 'string', multiple: true },
    },
    { min: 1, max: 1, usage: SIGNIN },
  );
  const email = p.positionals[0] as string;
  return withApi(ctx, async ({ api }) => {
    const info = (await api.listAccounts()).find((a) => a.email.toLowerCase() === email.toLowerCase());
    if (!info) throw new UserError('not-found', `account ${email} not found`);
    const scopes = (p.values.scope as string[] | undefined) ?? [];
    const profile = str(p, 'oauth') ?? info.oauthProfile;
    const signIn = await oauthSignIn({
      email: info.email,
      profile: profile && profile !== 'auto' ? profile : undefined,
      issuer: str(p, 'issuer') ?? info.oauthIssuer,
      clientId: str(p, 'client-id') ?? info.oauthClientId,
      clientSecretFile: str(p, 'client-secret-file'),
      scopes: scopes.length ? scopes : info.oauthScopes,
      stdout: ctx.stdout,
    });
    await api.setProviderOAuth(info.email, signIn.credential);
    println(ctx.stdout, `Signed in again as ${info.email}; sync resumes now (local mail kept).`);
    return 0;
  });
}

const PASSWORD = 'lockbridge account password E [--password-file F]';

/** Signs in again with a new provider password (from --password-file's first line, the env, or a prompt). */
async function password(ctx: CliContext, argv: string[]): Promise<number> {
  const p = parse(argv, { 'password-file': { type: 'string' } }, { min: 1, max: 1, usage: PASSWORD });
  const email = p.positionals[0] as string;
  const file = str(p, 'password-file');
  let secret: string;
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new UserError('no-such-file', `cannot read the password file ${file}`);
    }
    secret = text.split(/\r?\n/, 1)[0] ?? '';
    if (secret === '')
      throw new UserError('empty-secret', `the password file ${file} has an empty first line`);
  } else
    secret = await secretFrom(
      'LOCKBRIDGE_PROVIDER_PASSWORD',
      `New provider password for ${email}: `,
      'the provider password',
    );
  return withApi(ctx, async ({ api }) => {
    await api.setProviderPassword(email, secret);
    println(ctx.stdout, `Signed in again as ${email}; sync resumes now (local mail kept).`);
    return 0;
  });
}

const REPAIR = 'lockbridge account repair E [--json]';

/** One folder's line: what was checked, then what was done (only the non-zero counts). */
function repairLine(f: FolderRepair): string {
  const done = [
    f.fetched ? `${f.fetched} new` : '',
    f.refetched ? `${f.refetched} fetched again (missing)` : '',
    f.repaired ? `${f.repaired} repaired (damaged)` : '',
    f.dropped ? `${f.dropped} dropped (gone at the provider)` : '',
    f.unrepaired
      ? `${f.unrepaired} damaged and not repairable (no provider copy or a local change waits)`
      : '',
  ].filter(Boolean);
  return `${f.folder}: ${f.provider} at the provider, ${f.checked} local copies checked; ${done.length ? done.join(', ') : 'nothing to repair'}`;
}

/** Re-checks every folder against the provider and fetches again what is missing or damaged. */
async function repair(ctx: CliContext, argv: string[]): Promise<number> {
  const p = parse(argv, { json: { type: 'boolean' } }, { min: 1, max: 1, usage: REPAIR });
  const email = p.positionals[0] as string;
  return withApi(ctx, async ({ api, onEvent }) => {
    // on a terminal, which folder is being checked (a big account takes a while)
    const tty = Boolean(process.stderr.isTTY);
    let shown = false;
    const off = await onEvent((e) => {
      if (!tty || e.type !== 'repair-progress' || e.email.toLowerCase() !== email.toLowerCase()) return;
      const where = e.folder === null ? 'all folders checked' : `checking ${e.folder}`;
      process.stderr.write(`\rRepair: ${where} (${e.done} of ${e.total} folders done)\u001b[K`);
      shown = true;
    });
    const r = await api.repairAccount(email).finally(() => {
      off();
      if (shown) process.stderr.write('\n');
    });
    if (flag(p, 'json')) {
      println(ctx.stdout, JSON.stringify(r));
      return 0;
    }
    for (const f of r.folders) println(ctx.stdout, repairLine(f));
    const sum = (k: 'refetched' | 'repaired' | 'unrepaired') => r.folders.reduce((n, f) => n + f[k], 0);
    println(
      ctx.stdout,
      `Repaired ${r.email}: ${sum('refetched')} fetched again, ${sum('repaired')} repaired` +
        (sum('unrepaired') ? `, ${sum('unrepaired')} not repairable` : '') +
        ' (local flags and waiting changes kept; nothing changed at the provider).',
    );
    return 0;
  });
}

async function list(ctx: CliContext, argv: string[]): Promise<number> {
  const p = parse(
    argv,
    { json: { type: 'boolean' } },
    { min: 0, max: 0, usage: 'lockbridge account list [--json]' },
  );
  return withApi(ctx, async ({ api }) => {
    const accounts = await api.listAccounts();
    if (flag(p, 'json')) println(ctx.stdout, JSON.stringify(accounts));
    else if (accounts.length === 0)
      println(ctx.stdout, 'No accounts (add one with: lockbridge account add ...)');
    else
      for (const a of accounts)
        println(
          ctx.stdout,
          `${a.email}  imap ${a.imap.host}:${a.imap.port}  smtp ${a.smtp.host}:${a.smtp.port}  ${a.security}` +
            (a.signedOut ? '  signed out (local mail kept)' : ''),
        );
    return 0;
  });
}

async function remove(ctx: CliContext, argv: string[]): Promise<number> {
  const usage = 'lockbridge account remove E [--keep-mail] [--yes]';
  const p = parse(
    argv,
    { yes: { type: 'boolean' }, 'keep-mail': { type: 'boolean' } },
    { min: 1, max: 1, usage },
  );
  const email = p.positionals[0] as string;
  const keepMail = flag(p, 'keep-mail');
  const question = keepMail
    ? `Sign out of ${email} (its provider password is deleted, its local mail kept)?`
    : `Remove ${email} and delete its local mail?`;
  if (!flag(p, 'yes') && !(await confirm(question)))
    throw new UserError(
      'not-confirmed',
      keepMail
        ? `not signed out: confirm with --yes to sign out of ${email}`
        : `not removed: confirm with --yes to delete ${email} and its local mail`,
    );
  return withApi(ctx, async ({ api }) => {
    if (keepMail) {
      await api.removeAccount(email, { keepMail: true });
      println(
        ctx.stdout,
        `Signed out of ${email}; its local mail is kept (sync stopped, provider password deleted). ` +
          `Sign in again with: lockbridge account add --email ${email} ... (the same IMAP server).`,
      );
    } else {
      await api.removeAccount(email);
      println(ctx.stdout, `Removed ${email} and its local mail.`);
    }
    return 0;
  });
}

export async function runAccount(ctx: CliContext, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'add') return add(ctx, rest);
  if (sub === 'list') return list(ctx, rest);
  if (sub === 'remove') return remove(ctx, rest);
  if (sub === 'password') return password(ctx, rest);
  if (sub === 'signin') return signin(ctx, rest);
  if (sub === 'repair') return repair(ctx, rest);
  throw new UsageError(
    sub
      ? `unknown account command '${sub}' (add, list, remove, password, signin, repair)`
      : 'missing account command (add, list, remove, password, signin, repair)',
  );
}
