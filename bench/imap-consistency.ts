/**
 * The long randomized multi-session consistency run (issue 15): 30 sessions on 3 mailboxes of the
 * real store, 400 pipelined command batches each (smoke: 6 × 10). Fails on the first session whose
 * model of its mailbox is false; prints the seed (`LOCKBRIDGE_CONSISTENCY_SEED` replays it).
 */
import type { BenchOptions } from './index.ts';
import { consistencyOverStore } from '../test/helpers/imap-consistency.ts';

export async function run(o: BenchOptions): Promise<void> {
  const seed = Number(process.env.LOCKBRIDGE_CONSISTENCY_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const sessions = o.smoke ? 6 : 30;
  const rounds = o.smoke ? 10 : 400;
  const t0 = performance.now();
  const res = await consistencyOverStore({ sessions, rounds, seed });
  const s = (performance.now() - t0) / 1000;
  o.log(`| seed | sessions | commands | untagged responses | seconds | result |`);
  o.log(`| --- | --- | --- | --- | --- | --- |`);
  o.log(`| ${seed} | ${sessions} | ${res.commands} | ${res.untagged} | ${s.toFixed(1)} | consistent |`);
}
