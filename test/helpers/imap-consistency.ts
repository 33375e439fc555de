/**
 * Randomized multi-session consistency run (issue 15): many sessions on a few mailboxes of the
 * real encrypted store issue random, pipelined APPEND/STORE/COPY/MOVE/EXPUNGE/FETCH/SEARCH/NOOP/
 * IDLE/SELECT. Each session keeps a model of its mailbox built from the untagged responses alone
 * and checks, after every response line:
 * - EXISTS never decreases; EXPUNGE and FETCH name only messages the session was told exist;
 * - a UID once learnt for a sequence number stays there, and known UIDs ascend;
 * - FLAGS told for a message are a state that message really had (with MODSEQ: the exact state at
 *   that mod-sequence), never older than what the session was told before (MODSEQ never decreases);
 * - every keyword in a FETCH was announced in a FLAGS response first.
 * After the run and a final NOOP, every session's model equals the store (UIDs and flags).
 * Every random choice comes from the seed; failures name the seed and the session's last lines.
 */
import { ImapTestClient, PASS, USER, message } from './imap-transcript.ts';
import type { ImapAccount, MailboxChange } from '../../app/imap/backend.ts';
import { startImapServer } from '../../app/imap/server.ts';
import type { ImapServerHandle } from '../../app/imap/server.ts';
import { createImapBackend } from '../../app/control/adapters/imap-backend.ts';
import { silentLogger } from '../../app/shared/logger.ts';
import { addLocalAccount, newStore, tempDir } from '../unit/store/helpers.ts';

export interface ConsistencyOptions {
  port: number;
  user: string;
  password: string;
  /** A second view of the account for the store-side history (watchers) and the final check. */
  account: ImapAccount;
  mailboxes: string[];
  sessions: number;
  /** Command batches per session. */
  rounds: number;
  seed: number;
}

export interface ConsistencyResult {
  commands: number;
  untagged: number;
  finalMessages: Record<string, number>;
}

/** mulberry32: small seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FLAG_POOL = [
  '\\Seen',
  '\\Flagged',
  '\\Answered',
  '\\Deleted',
  '\\Draft',
  '$Label1',
  '$Label2',
  'Junk',
  '$Work',
];

function flagKey(flags: readonly string[]): string {
  return flags
    .filter((f) => f.toLowerCase() !== '\\recent')
    .map((f) => f.toLowerCase())
    .sort()
    .join(' ');
}

class Violation extends Error {}

/** Store-side history: every (modseq, flags) state each message had, in order. */
class History {
  readonly states = new Map<string, Map<number, Array<{ modseq: number; key: string }>>>();
  private readonly unwatch: Array<() => void> = [];

  constructor(account: ImapAccount, names: string[]) {
    for (const name of names) {
      const info = account.getMailbox(name)!;
      const per = new Map<number, Array<{ modseq: number; key: string }>>();
      this.states.set(name, per);
      const add = (uid: number, modseq: number, flags: string[]): void => {
        let list = per.get(uid);
        if (!list) per.set(uid, (list = []));
        list.push({ modseq, key: flagKey(flags) });
      };
      for (const r of account.fetch(info.id, account.openMailbox(info.id).uids, {}))
        add(r.uid, r.modseq, r.flags);
      this.unwatch.push(
        account.watch(info.id, (c: MailboxChange) => {
          if (c.kind === 'flags') for (const r of c.rows) add(r.uid, r.modseq, r.flags);
          else if (c.kind === 'exists') {
            // Read right after the commit, before any other write (watchers run synchronously).
            for (const r of account.fetch(info.id, c.uids, {})) add(r.uid, r.modseq, r.flags);
          }
        }),
      );
    }
  }

  close(): void {
    for (const u of this.unwatch) u();
  }
}

interface Entry {
  uid: number | null;
}

class SessionModel {
  mailbox = '';
  seq: Entry[] = [];
  keywords = new Set<string>();
  /** Per UID: index in the history of the last state told, and the last MODSEQ told. */
  lastIdx = new Map<number, number>();
  lastModseq = new Map<number, number>();
  flags = new Map<number, string>();
  readonly lines: string[] = [];
  untagged = 0;

  readonly name: string;
  readonly history: History;

  constructor(name: string, history: History) {
    this.name = name;
    this.history = history;
  }

  reset(mailbox: string): void {
    this.mailbox = mailbox;
    this.seq = [];
    this.keywords = new Set();
    this.lastIdx.clear();
    this.lastModseq.clear();
    this.flags.clear();
  }

  fail(msg: string): never {
    throw new Violation(
      `${this.name} (${this.mailbox}): ${msg}\n  last lines:\n    ${this.lines.slice(-25).join('\n    ')}`,
    );
  }

  apply(line: string): void {
    this.lines.push(line);
    if (this.lines.length > 200) this.lines.splice(0, 100);
    if (!line.startsWith('* ')) return;
    this.untagged++;
    let m: RegExpExecArray | null;
    if ((m = /^\* FLAGS \((.*)\)$/.exec(line))) {
      this.keywords = new Set(
        m[1]!
          .split(' ')
          .filter((f) => f && !f.startsWith('\\'))
          .map((f) => f.toLowerCase()),
      );
    } else if ((m = /^\* (\d+) EXISTS$/.exec(line))) {
      const n = Number(m[1]);
      if (n < this.seq.length) this.fail(`EXISTS ${n} below the ${this.seq.length} messages told`);
      while (this.seq.length < n) this.seq.push({ uid: null });
    } else if ((m = /^\* (\d+) EXPUNGE$/.exec(line))) {
      const n = Number(m[1]);
      if (n < 1 || n > this.seq.length)
        this.fail(`EXPUNGE ${n} of a message never told (${this.seq.length} told)`);
      const [e] = this.seq.splice(n - 1, 1);
      if (e!.uid !== null) this.flags.delete(e!.uid);
    } else if ((m = /^\* (\d+) FETCH \((.*)\)$/.exec(line))) {
      this.fetch(Number(m[1]), m[2]!);
    } else if ((m = /^\* SEARCH(.*)$/.exec(line))) {
      for (const t of m[1]!.trim().split(' ').filter(Boolean)) {
        // SEARCH answers are sequence numbers unless UID SEARCH; both are bounded loosely here.
        if (!/^\d+$/.test(t)) this.fail(`bad SEARCH token ${t}`);
      }
    } else if (/^\* BYE/.test(line)) this.fail('unexpected BYE');
  }

  private fetch(n: number, body: string): void {
    if (n < 1 || n > this.seq.length)
      this.fail(`FETCH for ${n}, beyond the ${this.seq.length} messages told`);
    const e = this.seq[n - 1]!;
    const uidM = /(?:^| )UID (\d+)/.exec(body);
    if (uidM) {
      const uid = Number(uidM[1]);
      if (e.uid !== null && e.uid !== uid) this.fail(`message ${n} was UID ${e.uid}, now told UID ${uid}`);
      e.uid = uid;
      for (let i = n - 2; i >= 0; i--) {
        const u = this.seq[i]!.uid;
        if (u !== null) {
          if (u >= uid) this.fail(`UIDs not ascending: ${u} before ${uid}`);
          break;
        }
      }
      for (let i = n; i < this.seq.length; i++) {
        const u = this.seq[i]!.uid;
        if (u !== null) {
          if (u <= uid) this.fail(`UIDs not ascending: ${uid} before ${u}`);
          break;
        }
      }
    }
    const flagsM = /(?:^| )FLAGS \(([^)]*)\)/.exec(body);
    const modseqM = /(?:^| )MODSEQ \((\d+)\)/.exec(body);
    const uid = e.uid;
    if (uid === null) return;
    const hist = this.history.states.get(this.mailbox)!.get(uid);
    if (!hist) this.fail(`UID ${uid} never existed in ${this.mailbox}`);
    if (modseqM) {
      const ms = Number(modseqM[1]);
      const last = this.lastModseq.get(uid) ?? 0;
      if (ms < last) this.fail(`MODSEQ of UID ${uid} went back from ${last} to ${ms}`);
      this.lastModseq.set(uid, ms);
    }
    if (!flagsM) return;
    const flags = flagsM[1]!.split(' ').filter(Boolean);
    for (const f of flags) {
      if (!f.startsWith('\\') && !this.keywords.has(f.toLowerCase()))
        this.fail(`keyword ${f} in FETCH before any FLAGS response announced it`);
    }
    const key = flagKey(flags);
    const from = this.lastIdx.get(uid) ?? 0;
    let idx = -1;
    if (modseqM) {
      const ms = Number(modseqM[1]);
      idx = hist.findIndex((h) => h.modseq === ms);
      if (idx < 0) this.fail(`UID ${uid} never had MODSEQ ${ms}`);
      if (hist[idx]!.key !== key)
        this.fail(`UID ${uid} at MODSEQ ${ms} had flags (${hist[idx]!.key}), told (${key})`);
      if (idx < from) this.fail(`UID ${uid}: told an older state (MODSEQ ${ms}) than before`);
    } else {
      for (let i = from; i < hist.length; i++) {
        if (hist[i]!.key === key) {
          idx = i;
          break;
        }
      }
      if (idx < 0) {
        const ever = hist.some((h) => h.key === key);
        this.fail(
          ever
            ? `UID ${uid}: flags (${key}) are older than what was told before`
            : `UID ${uid} never had flags (${key})`,
        );
      }
    }
    this.lastIdx.set(uid, idx);
    this.flags.set(uid, key);
  }
}

class Player {
  readonly model: SessionModel;
  private tagN = 0;
  commands = 0;
  idling = false;
  done = false;

  readonly c: ImapTestClient;
  readonly rnd: () => number;
  readonly condstore: boolean;

  constructor(c: ImapTestClient, name: string, history: History, rnd: () => number, condstore: boolean) {
    this.c = c;
    this.rnd = rnd;
    this.condstore = condstore;
    this.model = new SessionModel(name, history);
  }

  tag(): string {
    return `${this.model.name}.${++this.tagN}`;
  }

  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.rnd() * a.length)]!;
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }

  /** Read and apply lines until every tag in `tags` has its tagged reply. */
  async run(lines: string[], tags: string[], accept: (tag: string, reply: string) => boolean): Promise<void> {
    this.c.write(lines.join(''));
    this.commands += tags.length;
    const left = new Set(tags);
    while (left.size) {
      const l = await this.c.readLine(20_000);
      this.model.apply(l);
      const sp = l.indexOf(' ');
      const t = l.slice(0, sp);
      if (left.has(t)) {
        left.delete(t);
        const st = l.slice(sp + 1);
        if (!st.startsWith('OK') && !accept(t, l)) this.model.fail(`command failed: ${l}`);
      }
    }
  }

  async select(mailbox: string): Promise<void> {
    this.model.reset(mailbox);
    const t = this.tag();
    await this.run([`${t} SELECT ${mailbox}${this.condstore ? ' (CONDSTORE)' : ''}\r\n`], [t], () => false);
  }

  seqSet(): string {
    const n = this.model.seq.length;
    const a = this.int(1, n);
    const r = this.rnd();
    if (r < 0.2) return '1:*';
    if (r < 0.6) return String(a);
    const b = this.int(a, n);
    return `${a}:${b}`;
  }

  uidSet(all = true): string {
    const known = this.model.seq.map((e) => e.uid).filter((u): u is number => u !== null);
    if (!known.length) return all ? '1:*' : '*';
    if (all && this.rnd() < 0.3) return '1:*';
    const a = this.pick(known);
    return this.rnd() < 0.5 ? String(a) : `${a}:${a + this.int(0, 6)}`;
  }

  flags(): string {
    const n = this.int(1, 3);
    const s = new Set<string>();
    for (let i = 0; i < n; i++) s.add(this.pick(FLAG_POOL));
    return `(${[...s].join(' ')})`;
  }

  storeCmd(uid: boolean): string {
    const op = this.pick(['+', '+', '-', '']);
    const silent = this.rnd() < 0.2 ? '.SILENT' : '';
    return `${uid ? 'UID STORE ' + this.uidSet() : 'STORE ' + this.seqSet()} ${op}FLAGS${silent} ${this.flags()}`;
  }

  appendCmd(mailboxes: string[]): string {
    const body = `From: x@example.test\r\nSubject: r${this.int(0, 1e6)}\r\nMessage-ID: <${this.int(0, 1e9)}@x>\r\n\r\nhello ${this.int(0, 1e6)}\r\n`;
    const target = this.rnd() < 0.7 ? this.model.mailbox : this.pick(mailboxes);
    const fl = this.rnd() < 0.5 ? ` ${this.flags()}` : '';
    return `APPEND ${target}${fl} {${Buffer.byteLength(body)}+}\r\n${body}`;
  }
}

export async function runConsistency(o: ConsistencyOptions): Promise<ConsistencyResult> {
  const history = new History(o.account, o.mailboxes);
  const root = prng(o.seed);
  const players: Player[] = [];
  let opsDone = 0;
  const waiters: Array<() => void> = [];
  const tick = (): void => {
    opsDone++;
    for (const w of waiters.splice(0)) w();
  };
  try {
    for (let i = 0; i < o.sessions; i++) {
      const c = await ImapTestClient.connect(o.port);
      const r = await c.cmd(`L LOGIN ${o.user} ${o.password}`);
      if (!/^L OK/.test(r[r.length - 1]!)) throw new Error(`login failed: ${r.join(' / ')}`);
      const p = new Player(c, `s${i}`, history, prng(Math.floor(root() * 2 ** 32)), i % 2 === 0);
      if (p.condstore) await c.cmd('E ENABLE CONDSTORE');
      await p.select(o.mailboxes[i % o.mailboxes.length]!);
      players.push(p);
    }
    const others = (me: Player): boolean => players.some((p) => p !== me && !p.done && !p.idling);
    const waitOps = async (me: Player, k: number): Promise<void> => {
      const target = opsDone + k;
      while (opsDone < target && others(me)) await new Promise<void>((r) => waiters.push(r));
    };
    const acceptNo = (_t: string, l: string): boolean => / NO \[(EXPUNGEISSUED|TRYCREATE)\]/.test(l);

    const play = async (p: Player): Promise<void> => {
      for (let round = 0; round < o.rounds; round++) {
        const r = p.rnd();
        const n = p.model.seq.length;
        if (r < 0.04) {
          await p.select(p.pick(o.mailboxes));
        } else if (r < 0.1) {
          const t = p.tag();
          p.c.write(`${t} IDLE\r\n`);
          p.commands++;
          while (true) {
            const l = await p.c.readLine(20_000);
            if (l.startsWith('+')) break;
            p.model.apply(l);
          }
          p.idling = true;
          await waitOps(p, p.int(1, 6));
          p.idling = false;
          await p.run(['DONE\r\n'], [t], () => false);
        } else {
          // One pipelined batch: sequence-number FETCH/STORE/SEARCH (no EXPUNGE may interleave),
          // optionally a sequence COPY/MOVE, then UID commands / NOOP / APPEND, then maybe EXPUNGE.
          const cmds: string[] = [];
          if (n > 0) {
            for (let k = p.int(0, 3); k > 0; k--) {
              const x = p.rnd();
              if (x < 0.45)
                cmds.push(
                  `FETCH ${p.seqSet()} (FLAGS${p.rnd() < 0.5 ? ' UID' : ''}${p.condstore && p.rnd() < 0.5 ? ' MODSEQ' : ''})`,
                );
              else if (x < 0.85) cmds.push(p.storeCmd(false));
              else
                cmds.push(
                  `SEARCH ${p.pick(['ALL', 'FLAGGED', 'UNSEEN', 'DELETED', 'KEYWORD $Label1', `${p.seqSet()}`])}`,
                );
            }
            if (p.rnd() < 0.15) {
              cmds.push(`${p.rnd() < 0.5 ? 'COPY' : 'MOVE'} ${p.int(1, n)} ${p.pick(o.mailboxes)}`);
            }
          }
          for (let k = p.int(0, 3); k > 0; k--) {
            const x = p.rnd();
            if (x < 0.3) cmds.push(p.appendCmd(o.mailboxes));
            else if (x < 0.45) cmds.push(p.storeCmd(true));
            else if (x < 0.6) cmds.push(`UID FETCH ${p.uidSet()} (FLAGS${p.condstore ? ' MODSEQ' : ''})`);
            else if (x < 0.7)
              cmds.push(`UID ${p.rnd() < 0.5 ? 'COPY' : 'MOVE'} ${p.uidSet(false)} ${p.pick(o.mailboxes)}`);
            else if (x < 0.8) cmds.push(`UID SEARCH ${p.pick(['ALL', 'SEEN', 'NOT DELETED'])}`);
            else if (x < 0.9) cmds.push('NOOP');
            else cmds.push(`UID EXPUNGE ${p.uidSet()}`);
          }
          if (p.rnd() < 0.25) cmds.push('EXPUNGE');
          if (!cmds.length) cmds.push('NOOP');
          const tags = cmds.map(() => p.tag());
          await p.run(
            cmds.map((c, i) => `${tags[i]} ${c}\r\n`),
            tags,
            acceptNo,
          );
        }
        tick();
      }
      p.done = true;
      tick();
    };
    await Promise.all(players.map((p) => play(p)));

    // Final: after NOOP every model equals the store.
    const finalMessages: Record<string, number> = {};
    for (const p of players) {
      const t1 = p.tag();
      await p.run([`${t1} NOOP\r\n`], [t1], () => false);
      if (p.model.seq.length) {
        const t2 = p.tag();
        await p.run([`${t2} FETCH 1:* (UID FLAGS)\r\n`], [t2], () => false);
      }
      const info = o.account.getMailbox(p.model.mailbox)!;
      const uids = [...o.account.openMailbox(info.id).uids];
      finalMessages[p.model.mailbox] = uids.length;
      const told = p.model.seq.map((e) => e.uid);
      if (told.join(',') !== uids.join(','))
        p.model.fail(`after NOOP the session has UIDs [${told.join(',')}], the store [${uids.join(',')}]`);
      for (const r of o.account.fetch(info.id, uids, {})) {
        if (p.model.flags.get(r.uid) !== flagKey(r.flags))
          p.model.fail(
            `UID ${r.uid}: session has (${p.model.flags.get(r.uid)}), store (${flagKey(r.flags)})`,
          );
      }
    }
    let untagged = 0;
    for (const p of players) untagged += p.model.untagged;
    return { commands: players.reduce((s, p) => s + p.commands, 0), untagged, finalMessages };
  } catch (err) {
    if (err instanceof Violation || err instanceof Error) err.message = `[seed ${o.seed}] ${err.message}`;
    throw err;
  } finally {
    for (const p of players) p.c.close();
    history.close();
  }
}

/** The run over a fresh encrypted store with 3 mailboxes of 5 messages each (test and bench). */
export async function consistencyOverStore(opts: {
  sessions: number;
  rounds: number;
  seed: number;
}): Promise<ConsistencyResult> {
  const t = tempDir('lb-imap-consistency-');
  const store = await newStore(t.dir);
  const mailboxes = ['INBOX', 'Alpha', 'Beta'];
  let server: ImapServerHandle | null = null;
  const backend = createImapBackend(store, { logger: silentLogger });
  try {
    addLocalAccount(store, USER, PASS);
    server = await startImapServer({
      backend,
      port: 0,
      allowPlaintextLogin: true,
      maxConnections: opts.sessions + 10,
    });
    const account = (await backend.authenticate(USER, PASS))!;
    for (const name of mailboxes) {
      const info = account.getMailbox(name) ?? account.createMailbox(name);
      await account.append(
        info.id,
        [1, 2, 3, 4, 5].map((i) => ({
          raw: Buffer.from(message({ subject: `${name} ${i}`, messageId: `<${name}${i}@x>` })),
          flags: i % 2 ? ['\\Seen'] : [],
          internalDate: null,
        })),
      );
    }
    return await runConsistency({
      port: server.port,
      user: USER,
      password: PASS,
      account,
      mailboxes,
      ...opts,
    });
  } finally {
    await server?.close();
    backend.dispose();
    store.close();
    t.cleanup();
  }
}
