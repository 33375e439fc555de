// Thunderbird 153 (Debian) under Xvfb against the real `lockbridge serve` over STARTTLS, trusting
// only the local CA: it logs in with the saved local password (fixtures), lists the folders and
// downloads INBOX and Archive for offline use; the test reads what Thunderbird stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProvider, type Provider } from '../../helpers/provider.ts';
import { cli, initWithAccount, serve, tempHome, type ServeHandle } from '../../helpers/cli.ts';
import {
  TB_PASSWORD,
  TB_USER,
  makeProfile,
  offlineStore,
  removeProfile,
  startThunderbird,
  startXvfb,
  waitFor,
  type Display,
  type RunningThunderbird,
} from '../../helpers/thunderbird.ts';

const home = tempHome();
const env = {
  LOCKBRIDGE_PASSPHRASE: 'thunderbird test passphrase',
  LOCKBRIDGE_LOCAL_PASSWORD: TB_PASSWORD,
  LOCKBRIDGE_PROVIDER_PASSWORD: 'provider-pw',
};
let provider: Provider;
let bridge: ServeHandle | null = null;
let display: Display | null = null;
let tb: RunningThunderbird | null = null;
let profile = '';

function eml(subject: string, marker: string): string {
  return `From: Sender <sender@example.test>\r\nTo: ${TB_USER}\r\nSubject: ${subject}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <${marker}@example.test>\r\n\r\nbody ${marker}\r\n`;
}

before(async () => {
  provider = await startProvider();
  await provider.addUser(TB_USER, 'provider-pw');
  initWithAccount(home.dir, TB_USER, provider, env);
  const inbox = join(home.dir, '..', `tb-inbox-${process.pid}.eml`);
  const archive = join(home.dir, '..', `tb-archive-${process.pid}.eml`);
  writeFileSync(inbox, eml('for the inbox', 'inboxmarker81'));
  writeFileSync(archive, eml('for the archive', 'archivemarker82'));
  assert.equal(cli(['--home', home.dir, 'import', '--account', TB_USER, inbox], env).status, 0);
  assert.equal(
    cli(['--home', home.dir, 'import', '--account', TB_USER, '--mailbox', 'Archive', archive], env).status,
    0,
  );
});

after(async () => {
  await tb?.stop();
  display?.stop();
  await bridge?.stop('SIGKILL');
  await provider.close();
  if (profile && !process.env.KEEP_TB) removeProfile(profile);
  home.cleanup();
});

test('Thunderbird lists the folders and stores INBOX and Archive offline', async () => {
  bridge = await serve(home.dir, ['--imap-port', '0', '--smtp-port', '0', '--offline'], env);
  const caPem = JSON.parse(cli(['--home', home.dir, 'credentials', '--json'], env).stdout).caPem as string;
  profile = makeProfile({ imapPort: bridge.ready.imap, smtpPort: bridge.ready.smtp, caPem });
  display = await startXvfb();
  tb = startThunderbird(profile, display.display);
  // Thunderbird syncs folders for offline use in its own order and pace (slow on a loaded CI
  // machine): wait for both.
  await waitFor(
    () =>
      offlineStore(profile, 'INBOX').includes('inboxmarker81') &&
      offlineStore(profile, 'Archive').includes('archivemarker82'),
    180_000,
    () =>
      `offline stores: INBOX ${offlineStore(profile, 'INBOX').length} bytes, Archive ${offlineStore(profile, 'Archive').length} bytes; IMAP log tail:\n${tb?.log().slice(-3000)}`,
  );
  const log = tb.log();
  assert.match(log, /LIST/i, 'Thunderbird listed the folders');
  assert.doesNotMatch(
    log,
    /S-127\.0\.0\.1:[^\n]*\b(NO|BAD)\b[^\n]*\b(LOGIN|AUTHENTICATE|SELECT|FETCH|LIST)\b/,
  );
  const inbox = offlineStore(profile, 'INBOX');
  assert.match(inbox, /Subject: for the inbox/);
});
