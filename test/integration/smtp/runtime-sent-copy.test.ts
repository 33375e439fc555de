/**
 * Issue 16 (the Sent-copy setting did nothing): the product's runtime (initHome, createBridge,
 * serve — not a hand-assembled adapter) with `fileSentCopies` on, a message submitted over its SMTP
 * server with nodemailer, relayed through Postfix, and its Sent copy found at the provider
 * (Dovecot) by its Message-ID. The recipient-domain check runs too (asking a loopback DNS server
 * through LOCKBRIDGE_DNS_SERVERS, where example.test exists).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Bridge } from '../../../app/index.ts';
import { startProvider, type Provider } from '../../helpers/provider.ts';
import { useDomainResolver, type DnsServer } from '../../helpers/dns-server.ts';
import { addStoreAccount, bridgeSmtp, initBridge } from '../../helpers/runtime-bridge.ts';

const D = 'example.test';
const ME = `me@${D}`;
const BOB = `bob@${D}`;
const LOCAL = 'sent-copy-local';
const home = mkdtempSync(join(tmpdir(), 'lb-sent-copy-'));
let p: Provider;
let dns: DnsServer;
let bridge: Bridge;
let smtpPort = 0;
let caPem = '';

/** Message-IDs of the messages in a provider mailbox. */
async function messageIds(user: string, mailbox: string): Promise<string[]> {
  const c = await p.imapClient(user);
  try {
    const lock = await c.getMailboxLock(mailbox);
    try {
      const out: string[] = [];
      if (!c.mailbox || c.mailbox.exists === 0) return out;
      for await (const m of c.fetch('1:*', { envelope: true })) out.push(m.envelope?.messageId ?? '');
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await c.logout().catch(() => {});
  }
}

before(async () => {
  p = await startProvider({ domain: D });
  await p.addUser(ME, 'pw-me');
  await p.addUser(BOB, 'pw-bob');
  dns = await useDomainResolver(D);
  ({ bridge, caPem } = await initBridge({ home, passphrase: 'sent copy pass', localPassword: LOCAL }));
  addStoreAccount(bridge, ME, p.account(ME), p.smtpPort);
  await bridge.keyring.own.generate(ME);
  await bridge.api.updateSettings({ fileSentCopies: true });
  smtpPort = (await bridge.serve({ imapPort: 0, smtpPort: 0, control: false })).smtp;
});

after(async () => {
  await bridge?.close();
  await dns?.close();
  await p?.close();
  rmSync(home, { recursive: true, force: true });
});

test('the runtime files a Sent copy of submitted mail, and sync puts it in the provider’s Sent', async () => {
  const transport = bridgeSmtp(smtpPort, caPem, ME, LOCAL);
  // A domain that does not exist is refused at RCPT TO: the domain check is on the product path.
  await assert.rejects(
    transport.sendMail({ from: ME, to: 'nobody@no-such-domain.test', subject: 'x', text: 'x\n' }),
    (err: { responseCode?: number }) => err.responseCode === 550,
  );
  const info = await transport.sendMail({ from: ME, to: BOB, subject: 'filed in Sent', text: 'hello Bob\n' });
  assert.match(info.response, /^250/);
  // The recorder waits 20 s for the client's own copy, then files one; sync uploads it. A bound
  // only so that old code fails instead of hanging.
  const deadline = Date.now() + 180_000;
  let ids: string[] = [];
  while (!ids.includes(info.messageId)) {
    assert.ok(Date.now() < deadline, `no Sent copy at the provider (Sent holds ${JSON.stringify(ids)})`);
    await new Promise((r) => setTimeout(r, 500));
    ids = await messageIds(ME, 'Sent');
  }
  assert.equal(ids.filter((id) => id === info.messageId).length, 1);
});
