// Issue 20: the product's IMAP server holds the store's ForegroundWork while it answers a command
// (until the response is written, however slowly the client reads) and not during IDLE, so the
// store's background upkeep (full-text indexing, body-cache eviction) waits for local clients.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ImapTestClient } from '../../helpers/imap-transcript.ts';
import { addStoreAccount, initBridge } from '../../helpers/runtime-bridge.ts';
import { msg } from '../store/helpers.ts';

const home = mkdtempSync(join(tmpdir(), 'lb-foreground-'));
const ME = 'me@example.test';
const LOCAL = 'foreground-local';
after(() => rmSync(home, { recursive: true, force: true }));

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

test('a command holds the foreground until its response is written; IDLE does not', async () => {
  const { bridge } = await initBridge({ home, passphrase: 'fg pass', localPassword: LOCAL, offline: true });
  try {
    const acc = addStoreAccount(bridge, ME);
    const inbox = bridge.store.mailboxes.create(acc.id, 'INBOX');
    // 24 MB of bodies: more than the socket buffers hold while the client does not read
    const body = 'lorem ipsum dolor sit amet '.repeat(3000);
    for (let i = 0; i < 4; i++)
      bridge.store.messages.insertBatch(
        inbox.id,
        Array.from({ length: 75 }, (_, j) => msg(`m ${i}-${j}`, body)),
      );
    const fg = bridge.store.foreground;
    const info = await bridge.serve({ imapPort: 0, smtpPort: 0, control: false });
    const c = await ImapTestClient.connect(info.imap);
    await c.cmd('s STARTTLS');
    await c.startTls();
    await c.cmd(`l LOGIN ${ME} ${LOCAL}`);
    await c.cmd('x SELECT INBOX');
    assert.equal(fg.busy, false);

    c.pause();
    c.write('f UID FETCH 1:* (BODY.PEEK[])\r\n');
    await until(() => fg.busy, 'the FETCH to hold the foreground');
    c.resume();
    const lines = await c.until('f', 120_000);
    assert.match(lines[lines.length - 1]!, /^f OK/);
    await until(() => !fg.busy, 'the foreground to be released after the response');

    c.write('i IDLE\r\n');
    assert.match(await c.readLine(), /^\+ /);
    assert.equal(fg.busy, false, 'IDLE holds the foreground');
    c.write('DONE\r\n');
    const done = await c.until('i');
    assert.match(done[done.length - 1]!, /^i OK/);
    c.close();
  } finally {
    await bridge.close();
  }
});
