/**
 * Makes the saved-login fixtures for the Thunderbird tests (test/fixtures/thunderbird/key4.db and
 * logins.json) — run once by a developer; the tests reuse them on every run.
 *
 * It starts a real Dovecot (test/helpers/provider.ts) with the user TB_USER / TB_PASSWORD, a
 * Thunderbird profile pointing at it, answers Thunderbird's password prompt with xdotool (ticking
 * "remember"), and copies the NSS key database and the login store into the fixture folder.
 * Thunderbird keys saved logins by origin (imap://127.0.0.1, smtp://127.0.0.1), not by port, so
 * the fixtures work for the bridge on any port.
 *
 *   scripts/node24 scripts/make-thunderbird-logins.ts
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startProvider } from '../test/helpers/provider.ts';
import {
  FIXTURE_DIR,
  TB_PASSWORD,
  TB_USER,
  ensureDir,
  makeProfile,
  startThunderbird,
  startXvfb,
  waitFor,
} from '../test/helpers/thunderbird.ts';

const provider = await startProvider();
await provider.addUser(TB_USER, TB_PASSWORD);
await provider.appendRaw(
  TB_USER,
  'INBOX',
  `From: a@example.test\r\nTo: ${TB_USER}\r\nSubject: fixture\r\n\r\nhi\r\n`,
);
const profile = makeProfile({
  imapPort: provider.imapPort,
  smtpPort: provider.smtpPort,
  caPem: provider.caPem,
  savedLogins: false,
});
const x = await startXvfb();
const tb = startThunderbird(profile, x.display);
const xdo = (...args: string[]) =>
  spawnSync('xdotool', args, { env: { ...process.env, DISPLAY: x.display }, encoding: 'utf8' });
const findWindow = async (title: string): Promise<string> => {
  let win = '';
  await waitFor(
    () => (win = xdo('search', '--name', title).stdout.trim().split('\n')[0] ?? '') !== '',
    60_000,
    () => `no window '${title}' appeared`,
  );
  await new Promise((r) => setTimeout(r, 1000));
  xdo('windowfocus', '--sync', win);
  return win;
};
const saved = (origin: string) =>
  existsSync(join(profile, 'logins.json')) &&
  readFileSync(join(profile, 'logins.json'), 'utf8').includes(origin);
try {
  // 1. IMAP login prompt at startup: type, Tab to "remember", tick it, confirm.
  await findWindow('Enter your password');
  xdo('type', '--delay', '20', TB_PASSWORD);
  xdo('key', 'Tab', 'space', 'Return');
  await waitFor(
    () => saved('imap://127.0.0.1'),
    30_000,
    () => 'the IMAP login was not saved',
  );
  // 2. SMTP login: compose and send a message; the SMTP password dialog has a reveal button
  //    between the field and the checkbox, so tick the checkbox with a click (dialog centred in
  //    the 1280x900 screen: checkbox at 282,425 and OK at 602,460).
  await new Promise((r) => setTimeout(r, 3000));
  xdo('key', 'ctrl+n');
  await findWindow('Write:');
  xdo('type', '--delay', '15', 'bob@example.test');
  xdo('key', 'Return', 'Tab');
  xdo('type', '--delay', '15', 'fixture send');
  xdo('key', 'Tab');
  xdo('type', '--delay', '15', 'hello');
  xdo('key', 'ctrl+Return');
  await findWindow('Password Required');
  xdo('type', '--delay', '20', TB_PASSWORD);
  xdo('mousemove', '282', '425', 'click', '1');
  xdo('mousemove', '602', '460', 'click', '1');
  await waitFor(
    () => saved('smtp://127.0.0.1'),
    30_000,
    () => 'the SMTP login was not saved',
  );
  await new Promise((r) => setTimeout(r, 2000));
} finally {
  await tb.stop();
  x.stop();
  await provider.close();
}
ensureDir(FIXTURE_DIR);
copyFileSync(join(profile, 'key4.db'), join(FIXTURE_DIR, 'key4.db'));
copyFileSync(join(profile, 'logins.json'), join(FIXTURE_DIR, 'logins.json'));
console.log(`fixtures written to ${FIXTURE_DIR} (profile kept at ${profile})`);
