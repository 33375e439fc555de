import { flag, parse } from '../args.ts';
import { println, type CliContext } from '../context.ts';
import { requireStore, withApi } from '../session.ts';
import { isInteractive, promptSecret } from '../prompt.ts';
import { pathsFor } from '../../config/paths.ts';
import { findRunningBridge } from '../../control/http/client.ts';

/**
 * Without a running bridge and without the passphrase, what can be said without opening the
 * store; the passphrase (env, or a prompt that may be skipped) unlocks the rest. Returns the
 * passphrase to open the store with, or null to stop here.
 */
async function lockedSummary(ctx: CliContext, json: boolean): Promise<string | null> {
  const env = process.env.LOCKBRIDGE_PASSPHRASE;
  if (env !== undefined && env !== '') return env;
  const paths = pathsFor(ctx.home);
  if (json) {
    println(ctx.stdout, JSON.stringify({ running: false, locked: true, initialized: true, home: ctx.home }));
    return null;
  }
  println(ctx.stdout, `Bridge not running (data directory ${ctx.home}; logs in ${paths.logFile}).`);
  println(
    ctx.stdout,
    'Accounts, sync progress and the outbox are inside the encrypted store: they need the passphrase.',
  );
  if (!isInteractive()) {
    println(ctx.stdout, "Set LOCKBRIDGE_PASSPHRASE to see them, or start the bridge ('lockbridge serve').");
    return null;
  }
  const pass = await promptSecret('Store passphrase (Enter to stop here): ');
  return pass === '' ? null : pass;
}

/** 42 -> '42s', 300 -> '5m', 7200 -> '2h' (how long something has waited). */
function ago(sec: number | null): string {
  if (sec === null) return '';
  if (sec < 120) return `${sec}s`;
  if (sec < 7200) return `${Math.floor(sec / 60)}m`;
  return `${Math.floor(sec / 3600)}h`;
}

/**
 * 1536 -> '1.5 KB', in the units people read sizes in. renderer/src/format.ts formatBytes says the
 * same on purpose: the renderer takes only types from app/ and app/ never imports the renderer
 * (scripts/check-layering.mjs), and ten lines do not earn a third source root both could import.
 */
function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** The body cache line: stored bytes, the budget, bodies evicted (fetched again when read). */
function bodyCacheLine(c: { storedBytes: number; budgetBytes: number | null; evicted: number }): string {
  const budget = c.budgetBytes === null ? 'no limit (every body kept)' : `budget ${bytes(c.budgetBytes)}`;
  return `Message bodies stored: ${bytes(c.storedBytes)}, ${budget}, ${c.evicted} evicted (fetched from the provider when read)`;
}

export async function runStatus(ctx: CliContext, argv: string[]): Promise<number> {
  const p = parse(
    argv,
    { json: { type: 'boolean' } },
    { min: 0, max: 0, usage: 'lockbridge status [--json]' },
  );
  requireStore(ctx.home);
  let given: string | undefined;
  if (!findRunningBridge(pathsFor(ctx.home))) {
    const pass = await lockedSummary(ctx, flag(p, 'json'));
    if (pass === null) return 0;
    given = pass;
  }
  return withApi(
    ctx,
    async ({ api, remote }) => {
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
      // the body cache line once a budget applies or bodies were evicted (default: every body kept)
      if (s.bodyCache && (s.bodyCache.budgetBytes !== null || s.bodyCache.evicted > 0))
        println(ctx.stdout, bodyCacheLine(s.bodyCache));
      for (const w of s.certificateWarnings ?? []) {
        const who = w.emails.join(', ') || w.fingerprint;
        const when = w.expired
          ? `expired on ${w.notAfter.slice(0, 10)}`
          : `expires on ${w.notAfter.slice(0, 10)} (${w.daysLeft === 1 ? 'in 1 day' : `in ${w.daysLeft} days`})`;
        println(
          ctx.stdout,
          `S/MIME certificate for ${who} ${when}: issue a new one (lockbridge certs issue ${w.emails[0] ?? 'E'}) or import one`,
        );
      }
      const dir = s.certificateDirectory;
      if (dir?.lastLookup && !dir.lastLookup.ok)
        println(
          ctx.stdout,
          `S/MIME directory ${dir.url} could not be reached at ${dir.lastLookup.at} (${dir.lastLookup.detail}): mail went by the usual policy without its certificates`,
        );
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
          `  outbox: ${a.outbox.queued} queued${a.outbox.queued ? ` (oldest ${ago(a.outbox.oldestAgeSec)})` : ''}, ${a.outbox.failed} failed${a.outbox.lastError ? `; waiting because: ${a.outbox.lastError}` : ''}`,
        );
        println(
          ctx.stdout,
          `  waiting for the provider: ${a.pending.changes} local changes (${a.pending.uploads} uploads)${a.pending.changes ? `, oldest ${ago(a.pending.oldestAgeSec)}` : ''}${a.pending.lastError ? `; last error: ${a.pending.lastError}` : ''}`,
        );
        if (a.lastError) println(ctx.stdout, `  last error: ${a.lastError}`);
        if (a.connection === 'signed-out')
          println(
            ctx.stdout,
            `  signed out: local mail kept and served, nothing synced; sign in again with 'lockbridge account add --email ${a.email} ...' (the same IMAP server)`,
          );
      }
      return 0;
    },
    given,
  );
}
