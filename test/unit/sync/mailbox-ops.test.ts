// The provider-safety rules of remote/mailbox-ops.ts against scripted RemoteMailbox connections:
// the providers Dovecot cannot play (no UIDPLUS, no UNSELECT) and a refused command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expungeUids, leaveMailbox } from '../../../app/sync/remote/mailbox-ops.ts';
import type { RemoteMailbox, SelectedMailbox } from '../../../app/sync/remote/remote-mailbox.ts';

/** A connection that records each command; anything not scripted fails the test. */
function scripted(
  caps: string[],
  selected: Partial<SelectedMailbox> | null,
  script: Partial<RemoteMailbox>,
): { remote: RemoteMailbox; sent: string[] } {
  const sent: string[] = [];
  const base: Partial<RemoteMailbox> = {
    usable: true,
    selected: selected
      ? {
          path: 'INBOX',
          readOnly: false,
          uidValidity: 1,
          uidNext: 10,
          highestModseq: 0,
          exists: 5,
          ...selected,
        }
      : null,
    hasCapability: (name) => caps.includes(name),
  };
  const remote = new Proxy({ ...base, ...script } as RemoteMailbox, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || prop in base) return v;
      if (typeof v !== 'function') throw new Error(`not scripted: ${prop}`);
      return (...args: unknown[]) => {
        sent.push(`${prop} ${JSON.stringify(args)}`);
        return (v as (...a: unknown[]) => unknown)(...args);
      };
    },
  });
  return { remote, sent };
}

test('expungeUids: with UIDPLUS exactly our UIDs go (UID EXPUNGE)', async () => {
  const { remote, sent } = scripted(['UIDPLUS'], {}, { deleteMessages: async () => true });
  assert.equal(await expungeUids(remote, [3, 4, 5, 9]), 'expunged');
  assert.deepEqual(sent, ['deleteMessages ["3:5,9"]']);
});

test('expungeUids without UIDPLUS: another message marked \\Deleted keeps ours only marked', async () => {
  const { remote, sent } = scripted(
    [],
    {},
    {
      addFlags: async () => true,
      search: async () => [2, 3, 7], // 7 was marked by another device
      deleteMessages: async () => assert.fail('a plain EXPUNGE would remove the other device’s message'),
    },
  );
  assert.equal(await expungeUids(remote, [2, 3]), 'kept-marked');
  assert.deepEqual(sent, ['addFlags ["2:3",["\\\\Deleted"]]', 'search [{"deleted":true}]']);
});

test('expungeUids without UIDPLUS: only ours marked, so the plain EXPUNGE is safe', async () => {
  const { remote, sent } = scripted(
    [],
    {},
    {
      addFlags: async () => true,
      search: async () => [2, 3],
      deleteMessages: async () => true,
    },
  );
  assert.equal(await expungeUids(remote, [2, 3]), 'expunged');
  assert.equal(sent.at(-1), 'deleteMessages ["2:3"]');
});

test('expungeUids: a refused STORE is a failure, and nothing is expunged', async () => {
  const { remote, sent } = scripted([], {}, { addFlags: async () => false });
  assert.equal(await expungeUids(remote, [4]), 'failed');
  assert.deepEqual(sent, ['addFlags ["4",["\\\\Deleted"]]']);
});

test('leaveMailbox: UNSELECT where offered, else EXAMINE INBOX; never CLOSE', async () => {
  const withUnselect = scripted(['UNSELECT'], { path: 'Archive' }, { unselect: async () => {} });
  await leaveMailbox(withUnselect.remote);
  assert.deepEqual(withUnselect.sent, ['unselect []']);

  const without = scripted([], { path: 'Archive' }, { open: async () => {} });
  await leaveMailbox(without.remote);
  assert.deepEqual(without.sent, ['open ["INBOX",{"readOnly":true}]']);

  // INBOX already examined: nothing to send; nothing selected: nothing to leave
  const examined = scripted([], { path: 'INBOX', readOnly: true }, {});
  await leaveMailbox(examined.remote);
  const none = scripted([], null, {});
  await leaveMailbox(none.remote);
  assert.deepEqual([...examined.sent, ...none.sent], []);
});
