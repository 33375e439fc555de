import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedMutex } from '../../../app/shared/keyed-mutex.ts';

/** A promise with its resolve/reject handles, so the test decides when work ends. */
function gate(): { promise: Promise<void>; open: () => void; fail: (e: Error) => void } {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { promise, open, fail };
}

test('runs for one key one at a time, in order; other keys run meanwhile', async () => {
  const m = new KeyedMutex();
  const order: string[] = [];
  const g = gate();
  const first = m.run('a', async () => {
    order.push('a1 start');
    await g.promise;
    order.push('a1 end');
    return 1;
  });
  const second = m.run('a', async () => {
    order.push('a2');
    return 2;
  });
  const other = m.run('b', async () => {
    order.push('b');
    return 3;
  });
  assert.equal(await other, 3);
  assert.deepEqual(order, ['a1 start', 'b']); // a2 waits for a1, b did not
  g.open();
  assert.deepEqual(await Promise.all([first, second]), [1, 2]);
  assert.deepEqual(order, ['a1 start', 'b', 'a1 end', 'a2']);
  assert.equal(m.size, 0, 'settled keys are forgotten');
});

test('a rejected run passes its error to its caller and does not block the next one', async () => {
  const m = new KeyedMutex();
  const g = gate();
  const failing = m.run('k', async () => {
    await g.promise;
  });
  const after = m.run('k', async () => 'ran');
  g.fail(new Error('boom'));
  await assert.rejects(failing, /boom/);
  assert.equal(await after, 'ran');
  assert.equal(m.size, 0);
});

test('a function that throws synchronously rejects its run only', async () => {
  const m = new KeyedMutex();
  await assert.rejects(
    m.run('k', () => {
      throw new Error('sync');
    }),
    /sync/,
  );
  assert.equal(await m.run('k', async () => 5), 5);
});
