/** neomutt (under a pty via `script`) reads INBOX over IMAP and copies every message to an mbox. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PASS, message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { TestServer } from '../../helpers/imap-transcript.ts';
import { startRecordingProxy } from '../../helpers/imap-proxy.ts';
import type { RecordingProxy } from '../../helpers/imap-proxy.ts';

describe('neomutt', () => {
  let s: TestServer;
  let proxy: RecordingProxy;
  let dir: string;
  before(async () => {
    s = await startTestServer();
    for (let i = 1; i <= 3; i++)
      s.account.deliver('INBOX', message({ subject: `for neomutt ${i}`, messageId: `<n${i}@x>` }));
    proxy = await startRecordingProxy(s.port);
    dir = mkdtempSync(join(tmpdir(), 'lb-neomutt-'));
  });
  after(async () => {
    await proxy.close();
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies all INBOX messages to an mbox without any NO/BAD', async () => {
    const rc = join(dir, 'neomuttrc');
    const out = join(dir, 'out.mbox');
    writeFileSync(
      rc,
      [
        `set folder="imap://alice%40example.test@127.0.0.1:${proxy.port}/"`,
        'set spoolfile="+INBOX"',
        `set imap_pass="${PASS}"`,
        'set ssl_starttls=no',
        'set ssl_force_tls=no',
        'set mbox_type=mbox',
        'set confirmappend=no',
        'set confirmcreate=no',
        'set quit=yes',
        '',
      ].join('\n'),
    );
    const cmd = `neomutt -n -F ${rc} -e 'push "<tag-pattern>~A<enter><tag-prefix><copy-message>${out}<enter><quit>"'`;
    // Async: the IMAP server runs in this process.
    await promisify(execFile)('script', ['-qec', cmd, '/dev/null'], {
      timeout: 30_000,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TERM: 'xterm', HOME: dir },
    } as object);
    assert.ok(existsSync(out), 'mbox written');
    const mbox = readFileSync(out, 'utf8');
    assert.deepEqual(mbox.match(/^Subject: .*$/gm), [
      'Subject: for neomutt 1',
      'Subject: for neomutt 2',
      'Subject: for neomutt 3',
    ]);
    assert.deepEqual(proxy.failures(), []);
  });
});
