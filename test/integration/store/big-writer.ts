/**
 * Child process for crash-safety.test.ts: appends big messages (bodies written ahead in chunks)
 * forever. Message k has subject "big k"; it prints "staging k" before its chunks are written and
 * "acked k" once the insert returned (what an IMAP client is told OK after).
 */
import { writeSync } from 'node:fs';
import { fakeAnalysis, reopen } from '../../unit/store/helpers.ts';

const [dir, startArg] = process.argv.slice(2);

const store = await reopen(dir!, { passphrase: 'crash test' });
const account = store.accounts.getByEmail('crash@example.org')!;
const inbox = store.mailboxes.getByName(account.id, 'INBOX')!;

for (let k = Number(startArg); ; k++) {
  // 1.5-2.5 MB of base64 lines of pseudo-random bytes, different per message
  const bin = Buffer.alloc(1_100_000 + (k % 5) * 190_000);
  let x = k + 1;
  for (let i = 0; i < bin.length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    bin[i] = x >>> 16;
  }
  const body = Buffer.from(bin.toString('base64').replace(/(.{76})/g, '$1\r\n'));
  const raw = Buffer.concat([Buffer.from(`Subject: big ${k}\r\nMessage-ID: <big${k}@x>\r\n\r\n`), body]);
  const m = await store.messages.prepack({ raw, analysis: fakeAnalysis(raw) });
  writeSync(1, `staging ${k}\n`);
  await store.messages.staged([m], (msgs) => store.messages.insertBatch(inbox.id, msgs, 'local'));
  writeSync(1, `acked ${k}\n`);
}
