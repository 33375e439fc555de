// Issue 13, "must show": a seeded, randomized, two-sided sync run against real Dovecot. A mail
// client at the bridge and another device directly at the provider act at the same time (append
// with and without Message-ID, flag, mark \Deleted without expunging, expunge, copy, move, delete to
// Trash, create, rename and delete folders; the local client also sends mail through the bridge's
// SMTP to a friend, cc itself), while the proxies between the bridge and Dovecot/Postfix reset
// connections, black-hole them and swallow single replies (OK [APPENDUID], OK [COPYUID], the SMTP
// 250 after DATA) and the bridge is SIGKILLed and restarted. Each actor works on the messages and
// folders it made (so the expected end state is known exactly). After it settles:
//  (1) nothing vanished that no client expunged, (2) nothing is duplicated on either side (sent
//  mail: every message arrives, and more than once only as often as faults hit its relay — a
//  lost final 250 is SMTP's one window),
//  (3) both sides converge to the model (messages, flags, folders) within CONVERGE_MS,
//  (4) every body is byte-exact (own uploads decrypted), (5) PRAGMA integrity_check and the store's
//  own counters hold. CI: LB_RANDOM_OPS (default 40) operations, one seed; the soak
//  (bench/soak-sync.ts) repeats it with new seeds for LB_SOAK_MINUTES.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ImapFlow } from 'imapflow';
import { openStore } from '../../../app/store/store.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { startWorld, headerOf, WORLD_PASSPHRASE, type World } from '../../helpers/bridge-world.ts';
import { rawDb } from '../../helpers/store-db.ts';

// A fixed seed in CI (reproducible); the soak script passes a new one each round.
const SEED = Number(process.env.LB_SEED ?? 7);
const OPS = Number(process.env.LB_RANDOM_OPS ?? 40);
const CONVERGE_MS = 120_000;
const FOLDERS = ['INBOX', 'Archive', 'Trash'] as const;
const SHOWN_FLAGS = new Set(['\\Seen', '\\Flagged', '\\Deleted', '\\Answered']);
const FRIEND = 'friend@example.test';

let w: World;
before(async () => {
  w = await startWorld({ pollSeconds: 2 });
  await w.provider.addUser(FRIEND, 'friend-pw');
  const c = await w.providerClient();
  await c.mailboxCreate('Archive').catch(() => {});
  await c.logout();
});
after(async () => {
  await w?.close();
});

// mulberry32: a small seeded PRNG with good low bits
let rnd = SEED >>> 0;
const next = (n: number): number => {
  rnd = (rnd + 0x6d2b79f5) >>> 0;
  let t = rnd;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) % n;
};
const pick = <T>(xs: readonly T[]): T => xs[next(xs.length)]!;

type Actor = 'local' | 'provider';
interface Msg {
  subject: string;
  folder: string;
  flags: Set<string>;
  owner: Actor;
}
const model = new Map<string, Msg>(); // key: folder + NUL + subject
const bodies = new Map<string, string>(); // subject → body text
const key = (folder: string, subject: string) => `${folder}\u0000${subject}`;
/** Folder operations and faults in order, for the failure report. */
const trace: string[] = [];
/** The folders each actor made (beside FOLDERS): name → its maker. */
const ownFolders = new Map<string, Actor>();
const counts = {
  ops: 0,
  resets: 0,
  swallows: 0,
  blackholes: 0,
  kills: 0,
  /** SMTP: final 250s swallowed, sent messages found twice at the friend */
  lost250: 0,
  sentTwice: 0,
  byOp: {} as Record<string, number>,
};

function newMail(subject: string, withId: boolean): Buffer {
  const body = `body of ${subject}\r\nline two ${'x'.repeat(next(200))}\r\n`;
  bodies.set(subject, body);
  return Buffer.from(
    `From: Someone <someone@example.test>\r\nTo: ${w.user}\r\nSubject: ${subject}\r\n` +
      `Date: Fri, 04 Dec 2026 12:${String(next(60)).padStart(2, '0')}:00 +0000\r\n` +
      (withId ? `Message-ID: <${subject.replace(/\W/g, '.')}@example.test>\r\n` : '') +
      `\r\n${body}`,
  );
}

let local: ImapFlow | null = null;
let remote: ImapFlow | null = null;
async function localC(): Promise<ImapFlow> {
  if (!local || !local.usable) local = await w.localClient();
  return local;
}
async function remoteC(): Promise<ImapFlow> {
  if (!remote || !remote.usable) remote = await w.providerClient();
  return remote;
}

/** The UID of `subject` in `folder` as `c` sees it (null when not there yet). */
async function uidOf(c: ImapFlow, folder: string, subject: string): Promise<number | null> {
  await c.mailboxOpen(folder);
  const found = (await c.search({ header: { subject } }, { uid: true })) || [];
  return found.length === 1 ? found[0]! : null;
}

function owned(actor: Actor): Msg[] {
  return [...model.values()].filter((m) => m.owner === actor);
}

function foldersOf(actor: Actor): string[] {
  return [...ownFolders].filter(([, a]) => a === actor).map(([f]) => f);
}

/** Every folder the test knows of now: the fixed ones and those the actors made. */
function allFolders(): string[] {
  return [...FOLDERS, ...[...ownFolders.keys()].sort()];
}

/** Folder operations: make one, rename one (its messages go with it), delete one (and its mail). */
async function folderOp(c: ImapFlow, actor: Actor, n: number): Promise<void> {
  const mine = foldersOf(actor);
  const op = mine.length === 0 ? 'create' : pick(['create', 'rename', 'rename', 'delete'] as const);
  counts.byOp[`${actor}:folder-${op}`] = (counts.byOp[`${actor}:folder-${op}`] ?? 0) + 1;
  if (op === 'create') {
    if (mine.length >= 3) return;
    const name = `r${SEED}-${actor}-${n}`;
    await c.mailboxCreate(name);
    trace.push(`${n} ${actor} create ${name}`);
    ownFolders.set(name, actor);
    return;
  }
  const from = pick(mine);
  const inIt = [...model.values()].filter((m) => m.folder === from);
  if (op === 'rename') {
    const to = `r${SEED}-${actor}-${n}`;
    await c.mailboxRename(from, to);
    trace.push(`${n} ${actor} rename ${from} ${to}`);
    ownFolders.delete(from);
    ownFolders.set(to, actor);
    for (const m of inIt) {
      model.delete(key(from, m.subject));
      model.set(key(to, m.subject), { ...m, folder: to });
    }
    return;
  }
  await c.mailboxDelete(from);
  trace.push(`${n} ${actor} delete ${from}`);
  ownFolders.delete(from);
  for (const m of inIt) model.delete(key(from, m.subject));
}

/** Mail the local client sent through the bridge: subject → Message-ID. */
const sent = new Map<string, string>();

/** The next relay's final reply (the 250 after the provider's 354) is lost. */
function loseNext250(): void {
  let armed = false;
  w.smtpProxy.onServerLine((l) => {
    if (armed || !/^354 /.test(l)) return;
    armed = true;
    w.smtpProxy.onServerLine(null);
    void w.smtpProxy.swallowNext(/^250 /).then((got) => {
      if (got) counts.lost250++;
    });
  });
}

/** A mail client sends through the bridge's SMTP: to a friend, cc the user (read back in INBOX). */
async function send(n: number): Promise<void> {
  counts.byOp['local:send'] = (counts.byOp['local:send'] ?? 0) + 1;
  const subject = `s${SEED} ${n}`;
  const messageId = `<send.${SEED}.${n}@example.test>`;
  if (next(3) === 0) {
    trace.push(`${n} lose 250`);
    loseNext250();
  }
  await w.submit({
    from: w.user,
    to: FRIEND,
    cc: w.user,
    subject,
    messageId,
    text: `sent ${n}\n`,
  });
  sent.set(subject, messageId);
}

async function act(actor: Actor, n: number): Promise<void> {
  if (actor === 'local' && next(5) === 0) return await send(n);
  const c = actor === 'local' ? await localC() : await remoteC();
  if (next(8) === 0) return await folderOp(c, actor, n);
  const mine = owned(actor);
  const op =
    mine.length < 3
      ? 'append'
      : pick(['append', 'flag', 'flag', 'mark', 'expunge', 'copy', 'move', 'trash'] as const);
  counts.byOp[`${actor}:${op}`] = (counts.byOp[`${actor}:${op}`] ?? 0) + 1;
  if (op === 'append') {
    const folder = pick(['INBOX', 'INBOX', 'Archive', ...foldersOf(actor)]);
    const subject = `r${SEED} ${actor} ${n}`;
    const flags = next(2) ? ['\\Seen'] : [];
    await c.append(folder, newMail(subject, next(2) === 0), flags);
    model.set(key(folder, subject), { subject, folder, flags: new Set(flags), owner: actor });
    trace.push(`${n} ${actor} append ${folder}`);
    return;
  }
  const m = pick(mine);
  const uid = await uidOf(c, m.folder, m.subject);
  if (uid === null) return; // made by this actor but not visible here yet (the other side's upload)
  const set = String(uid);
  // message operations in the trace too: "12 local copy [local 3] INBOX"
  const what = `${n} ${actor} ${op} [${m.subject.slice(m.subject.indexOf(' ') + 1)}] ${m.folder}`;
  if (op !== 'copy' && op !== 'move' && op !== 'flag') trace.push(what);
  switch (op) {
    case 'flag': {
      const f = pick(['\\Seen', '\\Flagged', '\\Answered'] as const);
      trace.push(`${what} ${m.flags.has(f) ? '-' : '+'}${f}`);
      if (m.flags.has(f)) {
        await c.messageFlagsRemove(set, [f], { uid: true });
        m.flags.delete(f);
      } else {
        await c.messageFlagsAdd(set, [f], { uid: true });
        m.flags.add(f);
      }
      return;
    }
    case 'mark':
      await c.messageFlagsAdd(set, ['\\Deleted'], { uid: true });
      m.flags.add('\\Deleted');
      return;
    case 'expunge':
      await c.messageDelete(set, { uid: true }); // STORE \Deleted + UID EXPUNGE of this one
      model.delete(key(m.folder, m.subject));
      return;
    case 'copy':
    case 'move': {
      const to = pick(
        [...FOLDERS, ...foldersOf(actor)].filter((f) => f !== m.folder && !model.has(key(f, m.subject))),
      );
      if (!to) return;
      trace.push(`${what} > ${to}`);
      if (op === 'copy') await c.messageCopy(set, to, { uid: true });
      else await c.messageMove(set, to, { uid: true });
      model.set(key(to, m.subject), { ...m, folder: to, flags: new Set(m.flags) });
      if (op === 'move') model.delete(key(m.folder, m.subject));
      return;
    }
    case 'trash': {
      if (m.folder === 'Trash' || model.has(key('Trash', m.subject))) return;
      // neomutt's delete-to-Trash: mark, copy, expunge
      await c.messageFlagsAdd(set, ['\\Deleted'], { uid: true });
      await c.messageCopy(set, 'Trash', { uid: true });
      await c.messageDelete(set, { uid: true });
      model.set(key('Trash', m.subject), {
        ...m,
        folder: 'Trash',
        flags: new Set([...m.flags, '\\Deleted']),
      });
      model.delete(key(m.folder, m.subject));
      return;
    }
  }
}

/** Operations left before a black-hole ends (0: none on). */
let blackholeOff = 0;

async function fault(): Promise<void> {
  const f = next(12);
  if (f === 0) {
    counts.resets++;
    trace.push('reset');
    w.imapProxy.resetAll();
    w.smtpProxy.resetAll();
  } else if (f === 1) {
    counts.swallows++;
    trace.push('swallow');
    void w.imapProxy.swallowNext(next(2) ? /^\S+ OK \[APPENDUID / : /^(\*|\S+) OK \[COPYUID /);
  } else if (f === 2) {
    // the network goes quiet without a reset for a while (sleep, a Wi-Fi change): connections
    // open then stay dead until the bridge notices; the next operations go on meanwhile
    counts.blackholes++;
    trace.push('blackhole');
    w.imapProxy.blackhole(true);
    blackholeOff = next(3) + 1;
  } else if (f === 3) {
    counts.kills++;
    trace.push('kill');
    local?.close();
    local = null;
    await w.kill();
    await w.start();
  }
}

interface View {
  [folder: string]: string[]; // "subject|flags" sorted
}

function line(subject: string, flags: Iterable<string>): string {
  return `${subject}|${[...flags]
    .filter((f) => SHOWN_FLAGS.has(f))
    .sort()
    .join(' ')}`;
}

const FOLDER_LIST = '(folders)';

function modelView(): View {
  const v: View = { [FOLDER_LIST]: [...ownFolders.keys()].sort() };
  for (const f of allFolders()) v[f] = [];
  for (const m of model.values()) v[m.folder]!.push(line(m.subject, m.flags));
  for (const f of allFolders()) v[f]!.sort();
  return v;
}

/** The actors' folders that `c` lists. */
async function ownFolderList(c: ImapFlow): Promise<string[]> {
  return (await c.list())
    .map((m) => m.path)
    .filter((p) => p.startsWith(`r${SEED}-`))
    .sort();
}

async function localView(): Promise<{ view: View; bodies: Map<string, Buffer> }> {
  const c = await w.localClient();
  const view: View = {};
  const got = new Map<string, Buffer>();
  try {
    view[FOLDER_LIST] = await ownFolderList(c);
    for (const f of [...FOLDERS, ...view[FOLDER_LIST]]) {
      view[f] = [];
      const lock = await c.getMailboxLock(f, { readOnly: true });
      try {
        if (c.mailbox && c.mailbox.exists)
          for await (const m of c.fetch('1:*', { flags: true, source: true })) {
            const subject = headerOf(m.source!, 'subject') ?? '';
            if (!subject.startsWith(`r${SEED} `)) continue;
            view[f]!.push(line(subject, m.flags ?? []));
            got.set(`${f}\u0000${subject}`, m.source!);
          }
      } finally {
        lock.release();
      }
      view[f]!.sort();
    }
  } finally {
    await c.logout().catch(() => {});
  }
  return { view, bodies: got };
}

async function providerView(): Promise<{ view: View; bodies: Map<string, Buffer> }> {
  const view: View = {};
  const got = new Map<string, Buffer>();
  const c = await w.providerClient();
  try {
    view[FOLDER_LIST] = await ownFolderList(c);
  } finally {
    await c.logout().catch(() => {});
  }
  for (const f of [...FOLDERS, ...view[FOLDER_LIST]]) {
    view[f] = [];
    for (const m of await w.providerMessages(f)) {
      const subject = headerOf(m.plain, 'subject') ?? '';
      if (!subject.startsWith(`r${SEED} `)) continue;
      view[f]!.push(line(subject, m.flags));
      got.set(`${f}\u0000${subject}`, m.plain);
    }
    view[f]!.sort();
  }
  return { view, bodies: got };
}

/** How often each sent message is in the friend's INBOX, the provider's INBOX (the cc) and the
 * bridge's INBOX, with the Message-ID each copy carries. */
async function sentCopies(): Promise<Record<'friend' | 'provider' | 'local', Map<string, string[]>>> {
  const out = { friend: new Map<string, string[]>(), provider: new Map(), local: new Map() };
  const add = (m: Map<string, string[]>, raw: Buffer, id: string | null): void => {
    const subject = headerOf(raw, 'subject') ?? '';
    if (sent.has(subject)) m.set(subject, [...(m.get(subject) ?? []), id ?? '']);
  };
  const f = await w.provider.imapClient(FRIEND);
  try {
    const lock = await f.getMailboxLock('INBOX', { readOnly: true });
    try {
      if (f.mailbox && f.mailbox.exists)
        for await (const m of f.fetch('1:*', { source: true }))
          add(out.friend, m.source!, headerOf(m.source!, 'message-id'));
    } finally {
      lock.release();
    }
  } finally {
    await f.logout().catch(() => {});
  }
  for (const m of await w.providerMessages('INBOX')) add(out.provider, m.plain, m.messageId);
  const c = await w.localClient();
  try {
    const lock = await c.getMailboxLock('INBOX', { readOnly: true });
    try {
      if (c.mailbox && c.mailbox.exists)
        for await (const m of c.fetch('1:*', { source: true }))
          add(out.local, m.source!, headerOf(m.source!, 'message-id'));
    } finally {
      lock.release();
    }
  } finally {
    await c.logout().catch(() => {});
  }
  return out;
}

/** Every sent message is at the friend and in INBOX on both sides, as often here as there. */
function allArrived(s: Awaited<ReturnType<typeof sentCopies>>): boolean {
  return [...sent.keys()].every(
    (k) =>
      s.friend.has(k) && s.provider.has(k) && (s.local.get(k)?.length ?? 0) === s.provider.get(k)!.length,
  );
}

function bodyOf(raw: Buffer): string {
  const i = raw.indexOf('\r\n\r\n');
  return raw.subarray(i + 4).toString('latin1');
}

/** Waits until the bridge's first pass has mirrored the provider's folders (a client's APPEND to a
 * folder the bridge does not know yet is refused with TRYCREATE, as it should be). */
async function foldersMirrored(): Promise<void> {
  const deadline = Date.now() + CONVERGE_MS;
  for (;;) {
    const c = await w.localClient();
    try {
      const names = new Set((await c.list()).map((m) => m.path));
      if (FOLDERS.every((f) => names.has(f))) return;
    } finally {
      await c.logout().catch(() => {});
    }
    if (Date.now() > deadline) throw new Error("the bridge never mirrored the provider's folders");
    await new Promise((r) => setTimeout(r, 300));
  }
}

test(`two-sided randomized sync with faults and kills (seed ${SEED}, ${OPS} operations)`, async () => {
  const report = () => `seed ${SEED} (replay: LB_SEED=${SEED}); ${JSON.stringify(counts)}`;
  try {
    await w.start();
    await foldersMirrored();
    for (let n = 0; n < OPS; n++) {
      counts.ops++;
      const actor: Actor = next(2) ? 'local' : 'provider';
      await act(actor, n);
      if (blackholeOff > 0 && --blackholeOff === 0) {
        w.imapProxy.blackhole(false);
        trace.push('network back');
      }
      if (next(3) === 0) await fault();
    }
    // Settle: no new faults; the bridge runs.
    w.imapProxy.blackhole(false);
    w.imapProxy.onServerLine(null);
    if (!w.bridge) await w.start();
    const want = modelView();
    const deadline = Date.now() + CONVERGE_MS;
    const empty = { view: {} as View, bodies: new Map<string, Buffer>() };
    const noCopies = { friend: new Map(), provider: new Map(), local: new Map() };
    let lv = await localView().catch(() => empty);
    let pv = await providerView().catch(() => empty);
    let sc = await sentCopies().catch(() => noCopies);
    while (
      (JSON.stringify(lv.view) !== JSON.stringify(want) ||
        JSON.stringify(pv.view) !== JSON.stringify(want) ||
        !allArrived(sc)) &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 1000));
      lv = await localView().catch(() => empty);
      pv = await providerView().catch(() => empty);
      sc = await sentCopies().catch(() => noCopies);
    }
    // (1)-(3): the same messages with the same flags, once each, on both sides.
    assert.deepEqual(pv.view, want, 'the provider converged to what the clients did');
    assert.deepEqual(lv.view, want, 'the bridge converged to what the clients did');
    // sent mail: every message arrived, each copy with its Message-ID; the bridge shows what the
    // provider has; extra copies only where a fault hit a relay: a lost 250, a kill or a reset
    // doubles at most the copy in flight (relays go one at a time), so a message whose relay was
    // hit twice (a lost 250, then its retry's 250 lost too) arrives three times, as SMTP allows
    const faults = counts.lost250 + counts.kills + counts.resets;
    let doubled = 0;
    for (const [subject, id] of sent) {
      for (const side of ['friend', 'provider', 'local'] as const) {
        const ids = sc[side].get(subject) ?? [];
        assert.ok(
          ids.length >= 1 && ids.length <= 1 + faults,
          `${subject}: ${ids.length} copies at ${side} (${faults} faults)`,
        );
        assert.deepEqual(new Set(ids), new Set([id]), `${subject}: the Message-ID of each copy at ${side}`);
      }
      assert.equal(
        sc.local.get(subject)!.length,
        sc.provider.get(subject)!.length,
        `${subject}: INBOX copies`,
      );
      doubled += sc.friend.get(subject)!.length - 1 + sc.provider.get(subject)!.length - 1;
      if (sc.friend.get(subject)!.length >= 2) counts.sentTwice++;
    }
    assert.ok(
      doubled <= 2 * faults,
      `${doubled} doubled sent copies for ${counts.lost250} lost replies, ${counts.kills} kills, ${counts.resets} resets`,
    );
    // (4) bodies: byte-exact at the client; at the provider the decrypted upload holds them
    for (const [k, raw] of lv.bodies) {
      const [folder, subject] = k.split('\u0000') as [string, string];
      assert.equal(bodyOf(raw), bodies.get(subject), `body of ${subject} in ${folder} at the client`);
    }
    for (const [k, raw] of pv.bodies) {
      const [folder, subject] = k.split('\u0000') as [string, string];
      assert.ok(
        raw.toString('latin1').includes(bodies.get(subject)!),
        `body of ${subject} in ${folder} at the provider`,
      );
    }
    // (5) the store
    local?.close();
    remote?.close();
    await w.stop();
    const st = await openStore({
      dir: w.home,
      passphrase: WORLD_PASSPHRASE,
      logger: silentLogger,
      lock: false,
      ftsIndexing: 'manual',
    });
    try {
      assert.equal(rawDb(st).pragma('integrity_check', { simple: true }), 'ok');
      const bad = rawDb(st)
        .prepare(
          `SELECT b.name FROM mailboxes b WHERE b.uidnext <= coalesce((SELECT max(uid) FROM messages m WHERE m.mailbox_id = b.id), 0)
             OR b.highestmodseq < coalesce((SELECT max(modseq) FROM messages m WHERE m.mailbox_id = b.id), 0)`,
        )
        .all();
      assert.deepEqual(bad, [], 'UIDNEXT above every UID and HIGHESTMODSEQ at least every MODSEQ');
      assert.equal(
        (rawDb(st).prepare('SELECT count(*) AS n FROM pending_changes').get() as { n: number }).n,
        0,
        'nothing left to replay',
      );
    } finally {
      st.close();
    }
    process.stdout.write(`# ${report()}\n`);
  } catch (err) {
    throw new Error(`${report()}\ntrace: ${trace.join(', ')}\n${String(err)}`, { cause: err });
  }
});
