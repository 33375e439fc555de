/**
 * Issue 14 item 4: importing an Autocrypt Setup Message from the Inbox (the runtime's
 * importSetupMessageFromInbox over the real encrypted store). Only messages From and To the
 * account itself are candidates; each is tried newest first with the code the user typed, so a
 * newer Setup Message (or a planted one) never makes the right code fail; one sent from another
 * address is never imported as an own key, nor one whose key is for another address.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../../app/store/store.ts';
import { newStore } from '../../unit/store/helpers.ts';
import { StoreKeyringRepo } from '../../../app/store/repos/keyring.ts';
import { Keyring } from '../../../app/keys/keyring.ts';
import { InMemoryKeyringRepo } from '../../helpers/memory-keyring-repo.ts';
import { createSetupMessage } from '../../../app/outgoing/setup-message.ts';
import { importSetupMessageFromInbox } from '../../../app/control/setup-messages.ts';
import { analyzeMessage } from '../../../app/mime/analyze.ts';
import { UserError } from '../../../app/shared/errors.ts';

const ME = 'me@example.test';
let dir: string;
let store: Store;
let keyring: Keyring; // this device: no key yet
let inboxId: number;
const asm: { code: string; fpr: string }[] = [];

let clock = Date.parse('2026-11-01T10:00:00Z');
const device = () => new Keyring({ repo: new InMemoryKeyringRepo(), now: () => clock });

function deliver(raw: string): void {
  const bytes = Buffer.from(raw, 'utf8');
  store.messages.insert(inboxId, { raw: bytes, analysis: analyzeMessage(bytes) });
}

function readdress(raw: string, from: string, to: string): string {
  return raw.replace(/^From: .*$/m, `From: ${from}`).replace(/^To: .*$/m, `To: ${to}`);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lb-asm-inbox-'));
  store = await newStore(dir);
  const account = store.accounts.create({
    email: ME,
    imap: { host: '127.0.0.1', port: 1 },
    smtp: { host: '127.0.0.1', port: 1 },
    security: 'none',
    username: ME,
    providerPassword: 'x',
  });
  inboxId = store.mailboxes.ensure(account.id, 'INBOX').id;
  keyring = new Keyring({ repo: new StoreKeyringRepo(store) });

  // The user's other device made a Setup Message, later rotated its key and made another one.
  const other = device();
  await other.own.generate(ME);
  const first = await createSetupMessage(other, ME);
  deliver(first.raw);
  asm.push({ code: first.setupCode, fpr: first.fingerprint });
  clock += 86_400_000;
  await other.own.renew(ME, { mode: 'rotate' });
  const second = await createSetupMessage(other, ME);
  deliver(second.raw);
  asm.push({ code: second.setupCode, fpr: second.fingerprint });

  // Then someone else mailed one, with a key for the user's address, sent from their address.
  clock += 86_400_000;
  const mallory = device();
  await mallory.own.generate(ME);
  const planted = await createSetupMessage(mallory, ME);
  deliver(readdress(planted.raw, '<mallory@evil.test>', `<${ME}>`));
  asm.push({ code: planted.setupCode, fpr: planted.fingerprint });
});

after(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const code = (e: unknown) => (e instanceof UserError ? e.code : String(e));

test('a Setup Message sent from another address is never imported, even with its own code', async () => {
  await assert.rejects(importSetupMessageFromInbox(store, keyring, ME, asm[2]!.code), (e) => {
    assert.equal(code(e), 'bad-setup-code');
    return true;
  });
  assert.deepEqual(keyring.own.list(), []);
});

test('the right code of the older own Setup Message imports it, though a newer one is in the Inbox', async () => {
  const fpr = await importSetupMessageFromInbox(store, keyring, ME, asm[0]!.code);
  assert.equal(fpr, asm[0]!.fpr);
  assert.equal(keyring.own.active(ME)?.fingerprint, asm[0]!.fpr);
});

test('the newest own Setup Message imports with its code', async () => {
  const fpr = await importSetupMessageFromInbox(store, keyring, ME, asm[1]!.code);
  assert.equal(fpr, asm[1]!.fpr);
  assert.equal(keyring.own.active(ME)?.fingerprint, asm[1]!.fpr);
  assert.ok(!keyring.own.list().some((k) => k.fingerprint === asm[2]!.fpr));
});

test('an own-address Setup Message whose key is for another address is not imported as an own key', async () => {
  clock += 86_400_000;
  const elsewhere = device();
  await elsewhere.own.generate('someone@else.test');
  const foreign = await createSetupMessage(elsewhere, 'someone@else.test');
  deliver(readdress(foreign.raw, `<${ME}>`, `<${ME}>`));
  await assert.rejects(importSetupMessageFromInbox(store, keyring, ME, foreign.setupCode), (e) => {
    assert.equal(code(e), 'bad-setup-message');
    assert.match((e as Error).message, /someone@else\.test/);
    return true;
  });
  assert.ok(!keyring.own.list().some((k) => k.fingerprint === foreign.fingerprint));
  // and it does not stand in the way of an older one
  assert.equal(await importSetupMessageFromInbox(store, keyring, ME, asm[0]!.code), asm[0]!.fpr);
});
