/**
 * CONTEXT=SEARCH / CONTEXT=SORT kept up to date under random changes (RFC 5267 §4.3), seeded (the
 * seed is printed on failure; LOCKBRIDGE_TEST_SEED replays it). One session holds four UPDATE
 * contexts (UID and message-number, SEARCH and SORT); another session and the session itself
 * STORE, APPEND, COPY, MOVE and EXPUNGE at random. The first session keeps each result the way a
 * client does — from ADDTO / REMOVEFROM and EXPUNGE alone — and after every step it must equal what
 * the same program answers afresh; a REMOVEFROM must name the results where they are, and no
 * EXPUNGE may name a message still in a result.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { ImapTestClient } from '../../helpers/imap-transcript.ts';
import { seeded } from '../../helpers/seeded.ts';

interface Ctx {
  tag: string;
  /** The command after `RETURN (UPDATE ALL)`, to run afresh with `RETURN (ALL)`. */
  head: string;
  program: string;
  /** Message numbers or UIDs in result order, kept from the updates alone. */
  list: number[];
}

/** A sequence set in the order written; a range ascends whatever way it is written. */
function expand(set: string): number[] {
  if (set === 'NIL') return [];
  const out: number[] = [];
  for (const part of set.split(',')) {
    const [a, b] = part.split(':').map(Number) as [number, number | undefined];
    if (b === undefined) out.push(a);
    else for (let i = Math.min(a, b); i <= Math.max(a, b); i++) out.push(i);
  }
  return out;
}

function allOf(lines: string[], tag: string): number[] {
  const l = lines.find((x) => x.startsWith(`* ESEARCH (TAG "${tag}")`));
  assert.ok(l, `no ESEARCH for ${tag}: ${lines.join(' | ')}`);
  const m = / ALL (\S+)/.exec(l);
  return m ? expand(m[1]!) : [];
}

/** Apply what the server said to the contexts, as a client does. */
function apply(ctxs: Map<string, Ctx>, lines: string[]): void {
  for (const line of lines) {
    const ex = /^\* (\d+) EXPUNGE$/.exec(line);
    if (ex) {
      const n = Number(ex[1]);
      for (const c of ctxs.values()) {
        if (c.head.startsWith('UID ')) continue;
        assert.ok(!c.list.includes(n), `${c.tag}: EXPUNGE ${n} of a message still in the result`);
        c.list = c.list.map((x) => (x > n ? x - 1 : x));
      }
      continue;
    }
    const up = /^\* ESEARCH \(TAG "([^"]+)"\)(?: UID)? (ADDTO|REMOVEFROM) \((.*)\)$/.exec(line);
    if (!up) continue;
    const c = ctxs.get(up[1]!);
    assert.ok(c, `update for an unknown context: ${line}`);
    const words = up[3]!.split(' ');
    for (let i = 0; i < words.length; i += 2) {
      const pos = Number(words[i]);
      const items = expand(words[i + 1]!);
      if (up[2] === 'ADDTO') {
        if (pos === 0) c.list = [...c.list, ...items].sort((a, b) => a - b);
        else c.list.splice(pos - 1, 0, ...items);
      } else if (pos === 0) {
        for (const x of items)
          assert.ok(c.list.includes(x), `${c.tag}: REMOVEFROM of ${x}, not in the result`);
        c.list = c.list.filter((x) => !items.includes(x));
      } else {
        assert.deepEqual(c.list.slice(pos - 1, pos - 1 + items.length), items, `${c.tag}: ${line}`);
        c.list.splice(pos - 1, items.length);
      }
    }
  }
}

it('CONTEXT=SEARCH / CONTEXT=SORT results follow random changes (seeded)', async () => {
  const rnd = seeded();
  await rnd.report(async () => {
    const s = await startTestServer();
    try {
      const me = await s.login();
      const other = await s.login();
      await me.cmd('a0 CREATE Rnd');
      await me.cmd('a1 CREATE Side');
      const subjects = ['alpha', 'Beta', 'gamma', 'delta', '[x] eps'];
      const flagsPool = ['\\Flagged', '\\Seen', '\\Deleted', '$Junk'];
      let n = 0;
      const newMessage = (): string =>
        message({
          subject: subjects[rnd.int(subjects.length)],
          date: `Mon, ${1 + rnd.int(28)} Nov 2026 ${String(rnd.int(24)).padStart(2, '0')}:00:00 +0000`,
          messageId: `<r${n++}@x.example>`,
        });
      const pickFlags = (): string[] => flagsPool.filter(() => rnd.int(3) === 0);
      for (let i = 0; i < 12; i++) s.account.deliver('Rnd', newMessage(), pickFlags());
      for (let i = 0; i < 4; i++) s.account.deliver('Side', newMessage(), pickFlags());
      await me.cmd('a2 SELECT Rnd');
      await other.cmd('o0 SELECT Rnd');

      const ctxs = new Map<string, Ctx>();
      const specs: Array<Omit<Ctx, 'list'>> = [
        { tag: 'CA', head: 'UID SEARCH', program: 'FLAGGED' },
        { tag: 'CB', head: 'SEARCH', program: 'UNSEEN NOT KEYWORD $Junk' },
        { tag: 'CC', head: 'UID SORT', program: '(SUBJECT) UTF-8 UNDELETED' },
        { tag: 'CD', head: 'SORT', program: '(REVERSE DATE) UTF-8 OR FLAGGED SEEN' },
      ];
      for (const sp of specs) {
        const r = await me.cmd(`${sp.tag} ${sp.head} RETURN (ALL UPDATE) ${sp.program}`);
        assert.match(r[r.length - 1]!, new RegExp(`^${sp.tag} OK `));
        ctxs.set(sp.tag, { ...sp, list: allOf(r, sp.tag) });
      }

      let t = 0;
      /** Every command of `me` goes through here: what it hears updates the contexts. */
      const run = async (c: ImapTestClient, line: string): Promise<string[]> => {
        const r = await c.cmd(line);
        if (c === me) apply(ctxs, r);
        return r;
      };
      for (let step = 0; step < 150; step++) {
        const actor = rnd.int(4) === 0 ? me : other;
        const tag = `u${t++}`;
        const uids = allOf(await run(actor, `${tag} UID SEARCH RETURN (ALL) ALL`), tag);
        const some = (): string => (uids.length ? String(uids[rnd.int(uids.length)]) : '1');
        const op = rnd.int(6);
        let cmd: string;
        if (op <= 1) {
          const flag = flagsPool[rnd.int(flagsPool.length)];
          cmd = `UID STORE ${some()},${some()} ${rnd.int(2) ? '+' : '-'}FLAGS.SILENT (${flag})`;
        } else if (op === 2) {
          const m = newMessage();
          const flags = pickFlags().join(' ');
          cmd = `APPEND Rnd (${flags}) {${Buffer.byteLength(m)}+}\r\n${m}`;
        } else if (op === 3) cmd = 'EXPUNGE';
        else if (op === 4) cmd = `UID MOVE ${some()} Side`;
        else cmd = `UID COPY ${some()} Rnd`;
        const r = await run(actor, `s${t++} ${cmd}`);
        assert.match(r[r.length - 1]!, / OK /, `${cmd} → ${r.join(' | ')}`);
        await run(me, `n${t++} NOOP`);
        for (const c of ctxs.values()) {
          const f = `F${t++}`;
          const want = allOf(await run(me, `${f} ${c.head} RETURN (ALL) ${c.program}`), f);
          assert.deepEqual(c.list, want, `${c.tag} after step ${step} (${cmd})`);
        }
      }
      me.close();
      other.close();
    } finally {
      await s.close();
    }
  });
});
