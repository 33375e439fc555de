// Issue 13, items 1–3, played in the user's world: the real `lockbridge serve` syncs with a real
// Dovecot through a fault-injecting proxy while another device of the user acts directly at the
// provider; local clients delete to Trash the way neomutt and Thunderbird do; the provider's replies
// to APPEND/COPY/MOVE are swallowed; the bridge is SIGKILLed right after the provider stored an
// upload. Nothing the user did not delete may vanish at the provider, and nothing may be stored twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, headerOf, type World, waitFor } from '../../helpers/bridge-world.ts';

let w: World;
before(async () => {
  w = await startWorld({ pollSeconds: 2 });
});
after(async () => {
  await w?.close();
});

let seq = 0;
function mail(subject: string, opts: { messageId?: boolean } = {}): Buffer {
  seq++;
  return Buffer.from(
    `From: Friend <friend@example.test>\r\nTo: ${w.user}\r\nSubject: ${subject}\r\n` +
      `Date: Thu, 03 Dec 2026 10:00:${String(seq % 60).padStart(2, '0')} +0000\r\n` +
      (opts.messageId === false ? '' : `Message-ID: <safety-${seq}-${process.pid}@example.test>\r\n`) +
      `\r\nbody of ${subject} #${seq}\r\n`,
  );
}

async function localCount(mailbox: string): Promise<number> {
  const c = await w.localClient();
  try {
    const st = await c.status(mailbox, { messages: true }).catch(() => false as const);
    return st ? (st.messages ?? 0) : 0; // (a folder not mirrored yet: none)
  } finally {
    await c.logout().catch(() => {});
  }
}

/** Waits for a full pass after now: a marker put at the provider in `mailbox` shows up locally. */
async function passOver(mailbox: string): Promise<void> {
  const before = await localCount(mailbox);
  await w.provider.appendRaw(w.user, mailbox, mail(`marker ${mailbox}`));
  await waitFor(`a sync pass over ${mailbox}`, async () => (await localCount(mailbox)) > before);
}

function subjects(list: Array<{ plain: Buffer }>): string[] {
  return list.map((m) => headerOf(m.plain, 'subject') ?? '').sort();
}

test('a message another client only marked \\Deleted is never expunged at the provider', async () => {
  const c = await w.providerClient();
  await c.mailboxCreate('Archive').catch(() => {});
  for (let i = 0; i < 4; i++) await w.provider.appendRaw(w.user, 'INBOX', mail(`inbox ${i}`));
  for (let i = 0; i < 3; i++) await w.provider.appendRaw(w.user, 'Archive', mail(`archive ${i}`));
  await w.start();
  await waitFor(
    'initial sync',
    async () => (await localCount('INBOX')) === 4 && (await localCount('Archive')) === 3,
  );

  // The phone marks messages deleted without expunging (it may still undo that).
  await c.mailboxOpen('INBOX');
  await c.messageFlagsAdd('1:2', ['\\Deleted']);
  await c.mailboxOpen('Archive');
  await c.messageFlagsAdd('1', ['\\Deleted']);
  await c.logout();

  // The bridge sees the flags, and runs full passes over both folders afterwards.
  await waitFor('\\Deleted mirrored locally', async () => {
    const l = await w.localClient();
    try {
      await l.mailboxOpen('INBOX', { readOnly: true });
      const del = await l.search({ deleted: true });
      return (del || []).length === 2;
    } finally {
      await l.logout().catch(() => {});
    }
  });
  await passOver('Archive');
  await passOver('INBOX');
  await passOver('Archive');

  const inbox = await w.providerMessages('INBOX');
  const archive = await w.providerMessages('Archive');
  assert.equal(inbox.length, 4 + 1, 'INBOX at the provider keeps its marked messages (+1 marker)');
  assert.equal(archive.length, 3 + 2, 'Archive at the provider keeps its marked message (+2 markers)');
  assert.equal(inbox.filter((m) => m.flags.includes('\\Deleted')).length, 2);
  assert.equal(archive.filter((m) => m.flags.includes('\\Deleted')).length, 1);
});

test('delete to Trash while running (neomutt: STORE \\Deleted + COPY + EXPUNGE; Thunderbird: MOVE)', async () => {
  if (!w.bridge) await w.start();
  const originals = [mail('to trash neomutt', { messageId: false }), mail('to trash thunderbird')];
  for (const m of originals) await w.provider.appendRaw(w.user, 'INBOX', m);
  const l = await w.localClient();
  await waitFor('the two messages locally', async () => {
    await l.mailboxOpen('INBOX');
    const found = await l.search({ subject: 'to trash' });
    return (found || []).length === 2;
  });
  await l.mailboxOpen('INBOX');
  const [neo] = (await l.search({ subject: 'to trash neomutt' })) || [];
  await l.messageFlagsAdd(String(neo), ['\\Deleted']);
  await l.messageCopy(String(neo), 'Trash');
  await l.messageDelete(String(neo)); // STORE +FLAGS \Deleted + EXPUNGE, as neomutt does
  const [tb] = (await l.search({ subject: 'to trash thunderbird' })) || [];
  await l.messageMove(String(tb), 'Trash');
  await l.logout();

  const trash = await waitFor('both copies in the provider Trash', async () => {
    const t = await w.providerMessages('Trash');
    return t.length === 2 ? t : null;
  });
  // The provider's own bytes moved: no re-upload (encrypted, Subject "...") of a copy.
  assert.deepEqual(
    trash.map((m) => m.uploadToken),
    [null, null],
  );
  assert.deepEqual(trash.map((m) => m.plain.toString()).sort(), originals.map(String).sort());
  await waitFor('gone from the provider INBOX', async () => {
    const i = await w.providerMessages('INBOX');
    return !subjects(i).some((s) => s.startsWith('to trash'));
  });

  // After a restart nothing is uploaded again.
  await w.stop();
  await w.start();
  await passOver('Trash');
  const again = await w.providerMessages('Trash');
  assert.deepEqual(
    subjects(again).filter((s) => s.startsWith('to trash')),
    ['to trash neomutt', 'to trash thunderbird'],
  );
});

test('an APPEND whose OK [APPENDUID] is swallowed is stored once (no Message-ID)', async () => {
  if (!w.bridge) await w.start();
  await passOver('Drafts');
  const swallowed = w.imapProxy.swallowNext(/^\S+ OK \[APPENDUID /);
  const l = await w.localClient();
  await l.append('Drafts', mail('draft without id', { messageId: false }), ['\\Draft']);
  await l.logout();
  await swallowed;
  await waitFor('the draft at the provider', async () => (await w.providerMessages('Drafts')).length >= 1);
  await passOver('Drafts');
  await passOver('Drafts');
  const drafts = (await w.providerMessages('Drafts')).filter((m) =>
    (headerOf(m.plain, 'subject') ?? '').startsWith('draft without id'),
  );
  assert.equal(drafts.length, 1, 'stored exactly once at the provider');
  assert.equal(await localCount('Drafts'), 4, 'the draft and three markers, once each, locally');
});

test('COPY and MOVE whose replies are swallowed are done once', async () => {
  if (!w.bridge) await w.start();
  const c = await w.providerClient();
  await c.mailboxCreate('Projects').catch(() => {});
  await c.logout();
  await w.provider.appendRaw(w.user, 'INBOX', mail('copy me'));
  await w.provider.appendRaw(w.user, 'INBOX', mail('move me'));
  const l = await w.localClient();
  await waitFor('the messages and folder locally', async () => {
    const boxes = await l.list();
    if (!boxes.some((b) => b.path === 'Projects')) return false;
    await l.mailboxOpen('INBOX');
    return ((await l.search({ subject: 'me' })) || []).length >= 2;
  });
  await l.mailboxOpen('INBOX');
  const lostCopy = w.imapProxy.swallowNext(/^\S+ OK \[COPYUID /);
  const [cp] = (await l.search({ subject: 'copy me' })) || [];
  await l.messageCopy(String(cp), 'Projects');
  await lostCopy;
  const lostMove = w.imapProxy.swallowNext(/^(\* OK \[COPYUID |\S+ OK \[COPYUID )/);
  const [mv] = (await l.search({ subject: 'move me' })) || [];
  await l.messageMove(String(mv), 'Projects');
  await lostMove;
  await l.logout();
  await waitFor('both in Projects at the provider', async () => {
    const p = subjects(await w.providerMessages('Projects'));
    return p.includes('copy me') && p.includes('move me');
  });
  await passOver('Projects');
  await passOver('INBOX');
  const projects = subjects(await w.providerMessages('Projects')).filter((s) => s.endsWith(' me'));
  assert.deepEqual(projects, ['copy me', 'move me'], 'one copy of each in Projects');
  const inbox = subjects(await w.providerMessages('INBOX'));
  assert.equal(inbox.filter((s) => s === 'copy me').length, 1, 'the copied original stays');
  assert.equal(inbox.filter((s) => s === 'move me').length, 0, 'the moved one left INBOX');
  assert.equal(await localCount('Projects'), 3, 'locally: the two and a marker');
});

test('SIGKILL right after the provider stored an upload, in bursts: every message exactly once', async () => {
  const seed = Number(process.env.LB_SEED ?? 1313);
  let rnd = seed;
  const next = (n: number): number => {
    rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0;
    return (rnd >>> 16) % n;
  };
  const c = await w.providerClient();
  await c.mailboxCreate('Burst').catch(() => {});
  await c.logout();
  const sent: string[] = [];
  const uncertain = new Set<string>(); // the local APPEND was cut by the kill: stored 0 or 1 times
  const burst = async (): Promise<string[]> =>
    subjects(await w.providerMessages('Burst')).filter((s) => s.startsWith('burst'));
  try {
    for (let round = 0; round < 4; round++) {
      if (!w.bridge) await w.start();
      await passOver('Burst');
      const k = 1 + next(5);
      let seen = 0;
      let killing: Promise<void> | null = null;
      w.imapProxy.onServerLine((line) => {
        if (/^\S+ OK \[APPENDUID /.test(line) && ++seen === k) {
          w.imapProxy.onServerLine(null);
          killing = w.kill();
        }
      });
      const l = await w.localClient();
      for (let i = 0; i < 8; i++) {
        const subject = `burst ${round}.${i}`;
        try {
          await l.append('Burst', mail(subject, { messageId: next(2) === 0 }));
          sent.push(subject);
        } catch {
          uncertain.add(subject);
          break;
        }
      }
      l.close();
      await waitFor('the kill (or every upload of the round)', async () => {
        if (killing) return true;
        const got = await burst();
        return sent.every((s) => got.includes(s));
      });
      w.imapProxy.onServerLine(null);
      if (killing) await killing;
      else await w.kill();
    }
    await w.start();
    await waitFor('every upload at the provider', async () => {
      const got = await burst();
      return sent.every((s) => got.includes(s));
    });
    await passOver('Burst');
    await passOver('Burst');
    const got = await burst();
    const certain = got.filter((s) => !uncertain.has(s));
    assert.deepEqual(certain, [...sent].sort(), 'each once at the provider');
    assert.equal(new Set(got).size, got.length, 'no duplicates at the provider');
    assert.equal(
      await localCount('Burst'),
      got.length + 6,
      'the same messages once each locally (+6 markers: one a round, two at the end)',
    );
  } catch (err) {
    throw new Error(`seed ${seed} (LB_SEED=${seed} to replay): ${String(err)}`, { cause: err });
  }
});

test('a flag change the provider refused, retried after a newer one went through, does not undo it', async () => {
  // The first STORE is refused (NO) and waits for its retry; the client's next flag change goes
  // out meanwhile. The retry used to send the flags of its own moment, so the provider — and then,
  // synced back, the client — lost the newer flag.
  if (!w.bridge) await w.start();
  await w.provider.appendRaw(w.user, 'INBOX', mail('flag me'));
  const l = await w.localClient();
  try {
    await l.mailboxOpen('INBOX');
    const found = await waitFor('the message at the bridge', async () => {
      const u = (await l.search({ header: { subject: 'flag me' } }, { uid: true })) || [];
      return u.length === 1 ? u[0] : null;
    });
    const refused = w.imapProxy.refuseNext(/^\S+ UID STORE /, '[SERVERBUG] refused once for this test');
    await l.messageFlagsAdd(String(found), ['\\Flagged'], { uid: true });
    await refused;
    await l.messageFlagsAdd(String(found), ['\\Answered'], { uid: true });
  } finally {
    await l.logout().catch(() => {});
  }
  // both changes have reached the provider (the refused one after its backoff)
  await waitFor('nothing left to replay', async () => {
    const s = (await w.accountStatus()) as { pending?: { changes: number } };
    return s.pending?.changes === 0;
  });
  const [m] = (await w.providerMessages('INBOX')).filter((x) => headerOf(x.plain, 'subject') === 'flag me');
  assert.ok(m, 'the message is at the provider');
  assert.ok(
    m.flags.includes('\\Flagged') && m.flags.includes('\\Answered'),
    `provider flags: ${m.flags.join(' ')}`,
  );
});

test('a local copy reaches the provider with its own flags, not its source flags changed since', async () => {
  // The provider's COPY gives the copy the flags its source has there at that moment. Here the
  // COPY is refused once and waits for its retry while the client flags the original, which goes
  // out at once: the retried COPY used to give the copy the original's newer \Flagged, which the
  // client's copy never had (found by the two-sided soak, seed 905137: there a flag change replayed
  // before the copy had sent the original's later flags).
  if (!w.bridge) await w.start();
  const pc = await w.providerClient();
  await pc.mailboxCreate('Keep').catch(() => {});
  await pc.logout();
  await w.provider.appendRaw(w.user, 'INBOX', mail('copy keeps its flags'));
  const l = await w.localClient();
  try {
    const found = await waitFor('the message and the folder at the bridge', async () => {
      if (!(await l.list()).some((b) => b.path === 'Keep')) return null;
      await l.mailboxOpen('INBOX');
      const u = (await l.search({ header: { subject: 'copy keeps its flags' } }, { uid: true })) || [];
      return u.length === 1 ? u[0] : null;
    });
    const refused = w.imapProxy.refuseNext(/^\S+ UID (COPY|MOVE) /, '[SERVERBUG] refused once for this test');
    await l.messageCopy(String(found), 'Keep', { uid: true });
    await refused;
    await l.messageFlagsAdd(String(found), ['\\Flagged'], { uid: true });
  } finally {
    await l.logout().catch(() => {});
  }
  const flagsAt = async (mailbox: string) =>
    (await w.providerMessages(mailbox)).find((x) => headerOf(x.plain, 'subject') === 'copy keeps its flags')
      ?.flags ?? null;
  await waitFor('the original flagged at the provider', async () =>
    (await flagsAt('INBOX'))?.includes('\\Flagged'),
  );
  await waitFor('nothing left to replay', async () => {
    const s = (await w.accountStatus()) as { pending?: { changes: number } };
    return s.pending?.changes === 0 && (await flagsAt('Keep')) !== null;
  });
  await passOver('Keep');
  assert.deepEqual(await flagsAt('Keep'), [], 'the copy at the provider has the flags of the local copy');
  const c = await w.localClient();
  try {
    await c.mailboxOpen('Keep');
    const [m] = await c.fetchAll(
      { header: { subject: 'copy keeps its flags' } },
      { flags: true },
      { uid: true },
    );
    assert.ok(m, 'the copy is at the bridge');
    assert.deepEqual(
      [...(m.flags ?? [])].filter((f) => f !== '\\Recent'),
      [],
      'the local copy kept its flags',
    );
  } finally {
    await c.logout().catch(() => {});
  }
});

test('a local copy expunged while its COPY reply was lost leaves no copy at the provider', async () => {
  // The provider did the COPY but its reply was lost; before the bridge tried again the client
  // deleted the copy (it is gone locally, its expunge had nothing at the provider to name). The
  // copy the provider made used to stay there for good: mail the user deleted, back on every device.
  if (!w.bridge) await w.start();
  const pc = await w.providerClient();
  await pc.mailboxCreate('Scratch').catch(() => {});
  await pc.logout();
  await w.provider.appendRaw(w.user, 'INBOX', mail('copied then deleted'));
  const l = await w.localClient();
  try {
    const found = await waitFor('the message and the folder at the bridge', async () => {
      if (!(await l.list()).some((b) => b.path === 'Scratch')) return null;
      await l.mailboxOpen('INBOX');
      const u = (await l.search({ header: { subject: 'copied then deleted' } }, { uid: true })) || [];
      return u.length === 1 ? u[0] : null;
    });
    const lost = w.imapProxy.swallowNext(/^\S+ OK \[COPYUID /);
    await l.messageCopy(String(found), 'Scratch', { uid: true });
    await lost;
    await l.mailboxOpen('Scratch');
    const copies = (await l.search({ header: { subject: 'copied then deleted' } }, { uid: true })) || [];
    assert.equal(copies.length, 1, 'the copy at the bridge');
    await l.messageDelete(String(copies[0]), { uid: true });
  } finally {
    await l.logout().catch(() => {});
  }
  await waitFor('nothing left to replay', async () => {
    const s = (await w.accountStatus()) as { pending?: { changes: number } };
    return s.pending?.changes === 0;
  });
  await passOver('Scratch');
  const scratch = subjects(await w.providerMessages('Scratch')).filter((s) => s === 'copied then deleted');
  assert.deepEqual(scratch, [], 'no copy left in Scratch at the provider');
  const inbox = subjects(await w.providerMessages('INBOX')).filter((s) => s === 'copied then deleted');
  assert.deepEqual(inbox, ['copied then deleted'], 'the original stays');
  assert.equal(await localCount('Scratch'), 1, 'locally: only the marker');
});
