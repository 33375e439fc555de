/**
 * The bug-report bundle (`lockbridge report`, the control API's createReport, the Logs page's
 * button): one JSON file — a text editor or a browser opens it, the user can read every byte
 * before sending it, and it travels through the control API as it is (no archive to unpack).
 * Holds the version, platform, settings, account states, recent log lines from the rotating log
 * files and store health; personal data and secrets are redacted (./redact.ts) — secrets always.
 */
import { open, readFile } from 'node:fs/promises';
import { arch, homedir, platform, release } from 'node:os';
import { setImmediate as tick } from 'node:timers/promises';
import type { BridgeStatus, LogLine, Settings } from './contract.ts';
import type { Store } from '../store/store.ts';
import type { Account } from '../store/repos/accounts.ts';
import { recentSubjects, storeHealth } from '../store/health.ts';
import { pathsFor } from '../config/paths.ts';
import { DIRECTORY_PASSWORD_KEY } from '../config/settings.ts';
import { VERSION } from '../shared/version.ts';
import { Redactor, type KnownString } from './redact.ts';

export const REPORT_FORMAT = 'lockbridge-report/1';

/** Log lines in a report, at most; bytes read from the end of the log files, at most. */
const LOG_LINES = 2000;
const LOG_BYTES = 8 * 1024 * 1024;
/** A longer log line is cut (and then is no longer JSON: it is kept as redacted text). */
const LINE_MAX = 16 * 1024;
/** Work between two turns of the event loop, at most (ms). */
const SLICE_MS = 20;

/** Gives the event loop a turn when the current slice of work has run SLICE_MS. */
function slicer(): () => Promise<void> {
  let start = performance.now();
  return async () => {
    if (performance.now() - start < SLICE_MS) return;
    await tick();
    start = performance.now();
  };
}
/** A log message or field longer than this (after redaction) is cut. */
const TEXT_MAX = 2000;

function cap(s: string): string {
  return s.length > TEXT_MAX ? `${s.slice(0, TEXT_MAX)} …(cut)` : s;
}

const LEVELS: Record<number, LogLine['level']> = {
  10: 'debug',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'error',
};
const META = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'module', 'v', 'account', 'email']);

export interface ReportSources {
  home: string;
  includePersonal: boolean;
  /** True when a bridge serves the data directory (the report comes from it). */
  running: boolean;
  /** The open store and what it says; absent when it could not be opened (no passphrase). */
  open?: { store: Store; status: BridgeStatus; settings: Settings };
  /** Parts left out and why (shown in the report and to the user). */
  missing?: string[];
  /** Secrets known outside the store (a passphrase given, ...). */
  secrets?: string[];
}

export interface ReportFile {
  fileName: string;
  content: string;
  redacted: boolean;
  missing: string[];
}

/** Secrets the process can know without the store: the environment and the control token. */
async function ambientSecrets(home: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of ['LOCKBRIDGE_PASSPHRASE', 'LOCKBRIDGE_PROVIDER_PASSWORD', 'LOCKBRIDGE_LOCAL_PASSWORD']) {
    const v = process.env[name];
    if (v) out.push(v);
  }
  try {
    const token = (await readFile(pathsFor(home).controlToken, 'utf8')).trim();
    if (token) out.push(token);
  } catch {
    /* no bridge running */
  }
  return out;
}

/** An OAuth account's tokens and client secret: never in a report. */
function oauthSecrets(a: Account): string[] {
  const o = a.oauth;
  return o ? [o.refreshToken, o.accessToken, ...(o.clientSecret ? [o.clientSecret] : [])] : [];
}

function known(src: ReportSources, ambient: string[]): KnownString[] {
  const k: KnownString[] = [...ambient, ...(src.secrets ?? [])].map((value) => ({ kind: 'secret', value }));
  const s = src.open?.store;
  if (!s) return k;
  const loopbackOrIp = (h: string) => /^(?:localhost|[\d.]+|\[?[0-9a-f:]+\]?)$/i.test(h);
  for (const a of s.accounts.list()) {
    k.push({ kind: 'secret', value: a.providerPassword });
    for (const t of oauthSecrets(a)) k.push({ kind: 'secret', value: t });
    k.push({ kind: 'addr', value: a.email }, { kind: 'addr', value: a.username });
    if (a.displayName) k.push({ kind: 'addr', value: a.displayName });
    for (const h of [a.imap.host, a.smtp.host]) if (!loopbackOrIp(h)) k.push({ kind: 'host', value: h });
    for (const mb of s.mailboxes.list(a.id)) {
      k.push({ kind: 'folder', value: mb.name });
      if (mb.remoteName) k.push({ kind: 'folder', value: mb.remoteName });
    }
  }
  const local = s.credentials.get();
  if (local) k.push({ kind: 'secret', value: local });
  // the S/MIME directory: its bind password is a secret, its host and bind DN personal
  const dirPassword = s.settings.get<string>(DIRECTORY_PASSWORD_KEY);
  if (dirPassword) k.push({ kind: 'secret', value: dirPassword });
  const dir = src.open?.settings.smimeDirectory;
  if (dir) {
    const host = dir.url.replace(/^ldaps?:\/\//i, '').replace(/(?::\d+)?\/?$/, '');
    if (!loopbackOrIp(host)) k.push({ kind: 'host', value: host });
    if (dir.bindDn) k.push({ kind: 'addr', value: dir.bindDn });
  }
  for (const o of s.outbox.list()) {
    if (typeof o.envelope.subject === 'string') k.push({ kind: 'subject', value: o.envelope.subject });
    for (const r of o.envelope.to) k.push({ kind: 'addr', value: r });
  }
  for (const subject of recentSubjects(s)) k.push({ kind: 'subject', value: subject });
  return k;
}

/** The last `LOG_LINES` lines of the log files, oldest first (reads at most LOG_BYTES, 1 MiB at a time). */
async function tailLogs(home: string): Promise<string[]> {
  const base = pathsFor(home).logFile;
  const files = [base, `${base}.1`, `${base}.2`, `${base}.3`];
  const lines: string[] = [];
  let budget = LOG_BYTES;
  const CHUNK = 1024 * 1024;
  for (const f of files) {
    if (lines.length >= LOG_LINES || budget <= 0) break;
    let fh;
    try {
      fh = await open(f, 'r');
    } catch {
      continue;
    }
    try {
      let pos = (await fh.stat()).size;
      // bytes of a line whose start is in the chunk not read yet
      let carry = Buffer.alloc(0);
      const got: string[] = [];
      while (pos > 0 && budget > 0 && lines.length + got.length < LOG_LINES) {
        const len = Math.min(pos, CHUNK, budget);
        const buf = Buffer.alloc(len);
        await fh.read(buf, 0, len, pos - len);
        pos -= len;
        budget -= len;
        const joined = Buffer.concat([buf, carry]);
        const first = joined.indexOf(10);
        let whole: Buffer;
        if (pos > 0 && budget > 0) {
          // the bytes before the first line end belong to a line that starts further back
          whole = first < 0 ? Buffer.alloc(0) : joined.subarray(first + 1);
          carry = first < 0 ? joined : joined.subarray(0, first);
        } else {
          // the start of the file, or the budget ends mid-file (the cut first line is dropped)
          whole = pos === 0 ? joined : first < 0 ? Buffer.alloc(0) : joined.subarray(first + 1);
          carry = Buffer.alloc(0);
        }
        const part = whole
          .toString('utf8')
          .split('\n')
          .filter((l) => l.trim() !== '');
        got.unshift(...part);
        await tick();
      }
      lines.unshift(...got.slice(-(LOG_LINES - lines.length)));
    } finally {
      await fh.close();
    }
  }
  return lines.slice(-LOG_LINES);
}

function fieldValue(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'object' && 'message' in v && typeof (v as { message: unknown }).message === 'string')
    return (v as { message: string }).message;
  return JSON.stringify(v);
}

function logLine(raw: string, r: Redactor): LogLine {
  const cut = raw.length > LINE_MAX ? raw.slice(0, LINE_MAX) : raw;
  let rec: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(cut);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a record');
    rec = parsed as Record<string, unknown>;
  } catch {
    return { time: '', level: 'info', msg: cap(r.text(cut)) };
  }
  const who =
    typeof rec.account === 'string' ? rec.account : typeof rec.email === 'string' ? rec.email : null;
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec)) if (!META.has(k)) fields[k] = cap(r.field(k, fieldValue(v)));
  if (who !== null && typeof rec.email === 'string' && rec.email !== who) fields.email = r.text(rec.email);
  return {
    time: new Date(typeof rec.time === 'number' ? rec.time : 0).toISOString(),
    level: LEVELS[typeof rec.level === 'number' ? rec.level : 30] ?? 'info',
    msg: cap(r.text(typeof rec.msg === 'string' ? rec.msg : '')),
    ...(typeof rec.module === 'string' ? { module: rec.module } : {}),
    ...(who !== null ? { account: r.text(who) } : {}),
    ...(Object.keys(fields).length ? { fields } : {}),
  };
}

function shortHome(p: string): string {
  const h = homedir();
  return h && p.startsWith(h) ? `~${p.slice(h.length)}` : p;
}

function stamp(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}-${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`;
}

export async function buildReport(src: ReportSources): Promise<ReportFile> {
  const ambient = await ambientSecrets(src.home);
  const r = new Redactor(src.includePersonal, known(src, ambient));
  const missing = [...(src.missing ?? [])];
  const created = new Date();

  const rawLines = await tailLogs(src.home);
  const logs: LogLine[] = [];
  const turn = slicer();
  for (let i = 0; i < rawLines.length; i++) {
    logs.push(logLine(rawLines[i]!, r));
    await turn();
  }

  let settings: Record<string, unknown> | null = null;
  let accounts: unknown[] | null = null;
  let store: unknown = null;
  let bridge: Record<string, unknown> = { running: src.running };
  if (src.open) {
    const { status, store: s } = src.open;
    settings = {};
    for (const [k, v] of Object.entries(src.open.settings))
      settings[k] =
        typeof v === 'string'
          ? r.field(k, v)
          : v && typeof v === 'object'
            ? Object.fromEntries(
                Object.entries(v).map(([f, x]) => [f, typeof x === 'string' ? r.field(f, x) : x]),
              )
            : v;
    const byEmail = new Map(s.accounts.list().map((a) => [a.email, a]));
    accounts = status.accounts.map((a) => {
      const conf = byEmail.get(a.email);
      const host = (h: string) => (/^(?:localhost|[\d.]+)$/.test(h) ? h : r.text(r.placeholder('host', h)));
      return {
        email: r.text(a.email),
        connection: a.connection,
        paused: a.paused,
        lastError: a.lastError === null ? null : r.text(a.lastError),
        sync: {
          phase: a.sync.phase,
          messagesTotal: a.sync.messagesTotal,
          messagesSynced: a.sync.messagesSynced,
          sizesKnown: a.sync.sizesKnown,
          folders: a.sync.folders.map((f) => ({ ...f, name: r.field('folder', f.name) })),
        },
        outbox: { ...a.outbox, lastError: a.outbox.lastError === null ? null : r.text(a.outbox.lastError) },
        pending: {
          ...a.pending,
          lastError: a.pending.lastError === null ? null : r.text(a.pending.lastError),
        },
        ...(conf
          ? {
              provider: {
                imap: { host: host(conf.imap.host), port: conf.imap.port },
                smtp: { host: host(conf.smtp.host), port: conf.smtp.port },
                security: conf.security,
                privateCa: conf.caPem !== null,
              },
            }
          : {}),
      };
    });
    bridge = {
      running: src.running,
      home: shortHome(status.home),
      ports: status.ports,
      serving: status.serving ?? null,
      offline: status.offline,
      diskFull: status.diskFull === null ? null : r.text(shortHome(status.diskFull)),
    };
    await tick();
    const h = await storeHealth(s);
    const emailOf = new Map(s.accounts.list().map((a) => [a.id, r.text(a.email)]));
    store = {
      integrity: h.integrity.map((line) => r.text(line)),
      messages: h.messages,
      pendingChanges: h.pendingChanges,
      outbox: h.outbox,
      searchBacklog: h.searchBacklog,
      folders: h.folders.map((f) => ({
        account: emailOf.get(f.accountId) ?? String(f.accountId),
        name: f.specialUse ? f.name : r.field('folder', f.name),
        specialUse: f.specialUse,
        messages: f.messages,
      })),
    };
  }

  const report = {
    format: REPORT_FORMAT,
    version: VERSION,
    createdAt: created.toISOString(),
    redacted: !src.includePersonal,
    redaction: src.includePersonal
      ? 'Personal data included on request (addresses, subjects, folder names, hosts, IPs). Secrets are never included.'
      : 'Addresses, subjects, personal folder names, provider host names and IP addresses are replaced by placeholders (the same value, the same placeholder); secrets are removed.',
    platform: {
      os: platform(),
      arch: arch(),
      release: release(),
      node: process.versions.node,
      electron: process.versions.electron ?? null,
    },
    bridge,
    missing,
    settings,
    accounts,
    store,
  };
  // a last pass over the finished text for every known secret (in its JSON-escaped form too),
  // the log lines a batch at a time
  const last = secretsPass([...ambient, ...(src.secrets ?? [])], src.open?.store);
  const head = JSON.stringify(report, null, 2);
  const parts = [`${last.known(head.slice(0, -2))},\n  "logs": [`];
  for (let i = 0; i < logs.length; i++) {
    parts.push(`${i ? ',' : ''}\n    ${last.known(JSON.stringify(logs[i]))}`);
    await turn();
  }
  parts.push(`${logs.length ? '\n  ' : ''}]\n}\n`);
  const content = parts.join('');
  return {
    fileName: `lockbridge-report-${stamp(created)}.json`,
    content,
    redacted: !src.includePersonal,
    missing,
  };
}

function secretsPass(extra: string[], store: Store | undefined): Redactor {
  const secrets = [...extra];
  if (store) {
    for (const a of store.accounts.list()) secrets.push(a.providerPassword, ...oauthSecrets(a));
    const local = store.credentials.get();
    if (local) secrets.push(local);
  }
  const forms = secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]);
  return new Redactor(
    true,
    forms.map((value) => ({ kind: 'secret' as const, value })),
  );
}
