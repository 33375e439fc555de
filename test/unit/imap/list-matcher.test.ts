/**
 * LIST pattern matching (app/imap/mailbox-names.ts): the same answers as the obvious regular
 * expression on generated patterns and names (seeded; reproduce with LOCKBRIDGE_FUZZ_SEED), and no
 * catastrophic backtracking on hostile patterns (issue 14 item 6: `**********q` took 8.3 s, sixteen
 * `%` never returned) — measured as the event loop's longest block, bound 200 ms.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { listMatcher } from '../../../app/imap/mailbox-names.ts';
import { Prng, fuzzSeed } from '../fuzz/prng.ts';
import { assertLoop, startLoopWatch } from '../../helpers/event-loop.ts';

function reference(pattern: string): RegExp {
  let re = '^';
  for (const ch of pattern) {
    if (ch === '*') re += '.*';
    else if (ch === '%') re += '[^/]*';
    else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(re + '$', 's');
}

describe('LIST pattern matcher', () => {
  it('agrees with a regular expression on generated patterns', () => {
    const seed = fuzzSeed();
    const rng = new Prng(seed);
    const alphabet = ['a', 'b', '/', '*', '%', '.', 'ä'];
    for (let n = 0; n < 20_000; n++) {
      let pat = '';
      for (let i = rng.int(8); i > 0; i--) pat += rng.pick(alphabet);
      let name = '';
      for (let i = rng.int(10); i > 0; i--) name += rng.pick(['a', 'b', '/', '.', 'ä']);
      const want = reference(pat).test(name);
      assert.equal(listMatcher('', pat)(name), want, `seed ${seed}: pattern ${pat} name ${name}`);
    }
  });

  it('agrees with a regular expression on long patterns (several 32-state words)', () => {
    const seed = fuzzSeed();
    const rng = new Prng(seed);
    for (let n = 0; n < 3000; n++) {
      let pat = '';
      const len = 20 + rng.int(120);
      for (let i = 0; i < len; i++)
        pat += rng.chance(0.06) ? rng.pick(['*', '%']) : rng.pick(['a', 'b', '/']);
      // a name built from the pattern (wildcards filled in), sometimes changed in one place
      let name = pat.replace(/[*%]/g, (w) =>
        Array.from({ length: rng.int(4) }, () => rng.pick(w === '*' ? ['a', 'b', '/'] : ['a', 'b'])).join(''),
      );
      if (rng.chance(0.5)) {
        const at = rng.int(name.length);
        name = name.slice(0, at) + rng.pick(['a', 'b', '/', '']) + name.slice(at + 1);
      }
      const want = reference(pat).test(name);
      assert.equal(listMatcher('', pat)(name), want, `seed ${seed}: pattern ${pat} name ${name}`);
    }
  });

  it('reference and INBOX handling', () => {
    assert.equal(listMatcher('Projects/', '%')('Projects/2026'), true);
    assert.equal(listMatcher('Projects/', '%')('Projects/2026/Q1'), false);
    assert.equal(listMatcher('Projects/', '/x')('/x'), true);
    assert.equal(listMatcher('', 'inbox')('INBOX'), true);
    assert.equal(listMatcher('', 'Inbox/%')('INBOX/a'), true);
    assert.equal(listMatcher('', '')('a'), false);
  });

  it('hostile patterns do not block the event loop', async () => {
    const watch = startLoopWatch();
    const names = [
      'a'.repeat(40),
      'q'.repeat(1000),
      'a/'.repeat(500).slice(0, 999),
      'x%y*'.repeat(250),
      'Archive/2026/Lists/' + 'a'.repeat(900),
    ];
    const patterns = [
      '**********q',
      '%'.repeat(16) + 'q',
      '*a'.repeat(2000) + 'q',
      '%a'.repeat(2000) + 'q',
      '*%'.repeat(16000),
      ('*' + 'a'.repeat(10)).repeat(90) + 'b',
    ];
    for (const p of patterns) {
      const m = listMatcher('', p);
      for (let round = 0; round < 20; round++) for (const n of names) m(n);
      await new Promise((r) => setImmediate(r));
    }
    assertLoop(await watch.stop(), 'hostile LIST patterns');
    assert.equal(listMatcher('', '**********q')('a'.repeat(40)), false);
    assert.equal(listMatcher('', '*%'.repeat(16000))('anything/at/all'), true);
  });
});
