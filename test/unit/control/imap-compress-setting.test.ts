// Issue 15 item 13: `serve` offers COMPRESS=DEFLATE exactly when the imapCompress setting is on
// (applied at the next start), and a client can then switch the connection to DEFLATE.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ImapTestClient } from '../../helpers/imap-transcript.ts';
import { addStoreAccount, initBridge, openBridge } from '../../helpers/runtime-bridge.ts';

const home = mkdtempSync(join(tmpdir(), 'lb-compress-'));
const PASS = 'compress passphrase';
const LOCAL = 'compress-local';
const ME = 'me@example.test';
after(() => rmSync(home, { recursive: true, force: true }));

async function capsAfterLogin(): Promise<string> {
  const bridge = await openBridge({ home, passphrase: PASS, offline: true });
  try {
    const info = await bridge.serve({ imapPort: 0, smtpPort: 0, control: false });
    const c = await ImapTestClient.connect(info.imap);
    await c.cmd('s STARTTLS');
    await c.startTls();
    const r = await c.cmd(`l LOGIN ${ME} ${LOCAL}`);
    const caps = (await c.cmd('c CAPABILITY'))[0]!;
    assert.match(r[r.length - 1]!, /^l OK/);
    if (caps.includes('COMPRESS=DEFLATE')) {
      assert.deepEqual(await c.cmd('z COMPRESS DEFLATE'), ['z OK DEFLATE active']);
    }
    c.close();
    return caps;
  } finally {
    await bridge.close();
  }
}

test('COMPRESS=DEFLATE is offered only when imapCompress is on', async () => {
  const { bridge: b } = await initBridge({ home, passphrase: PASS, localPassword: LOCAL, offline: true });
  addStoreAccount(b, ME);
  assert.equal((await b.api.getSettings()).imapCompress, false);
  await b.close();
  assert.doesNotMatch(await capsAfterLogin(), /COMPRESS=DEFLATE/);
  const b2 = await openBridge({ home, passphrase: PASS, offline: true });
  await b2.api.updateSettings({ imapCompress: true });
  await b2.close();
  assert.match(await capsAfterLogin(), /COMPRESS=DEFLATE/);
});
