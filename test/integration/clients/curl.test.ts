/** curl's IMAP client against the Lockbridge IMAP server (STARTTLS with the local CA). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLocalTls } from '../../../app/crypto/local-ca.ts';
import { PASS, USER, message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { TestServer } from '../../helpers/imap-transcript.ts';

const run = promisify(execFile);

describe('curl', () => {
  let s: TestServer;
  let dir: string;
  let ca: string;
  before(async () => {
    const m = await createLocalTls();
    dir = mkdtempSync(join(tmpdir(), 'lb-curl-'));
    ca = join(dir, 'ca.pem');
    writeFileSync(ca, m.caCertPem);
    s = await startTestServer({ tls: { key: m.keyPem, cert: m.certPem }, allowPlaintextLogin: false });
    s.account.deliver('INBOX', message({ subject: 'for curl', messageId: '<c1@x>', body: 'curl body' }));
  });
  after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const curl = async (url: string, extra: string[] = []): Promise<string> => {
    const { stdout } = await run(
      'curl',
      ['-sS', '--ssl-reqd', '--cacert', ca, '--user', `${USER}:${PASS}`, ...extra, url],
      {
        timeout: 15_000,
      },
    );
    return stdout;
  };
  const base = (): string => `imap://localhost:${s.port}`;

  it('lists folders, searches, fetches a message and appends one', async () => {
    const list = await curl(`${base()}/`);
    assert.match(list, /\* LIST \(\\HasNoChildren\) "\/" INBOX/);
    assert.match(list, /\* LIST \(\\HasNoChildren \\Sent\) "\/" Sent/);
    const search = await curl(`${base()}/INBOX`, ['-X', 'UID SEARCH ALL']);
    assert.match(search, /^\* SEARCH 1\r?$/m);
    const raw = await curl(`${base()}/INBOX;UID=1`);
    assert.equal(raw, message({ subject: 'for curl', messageId: '<c1@x>', body: 'curl body' }));
    const file = join(dir, 'up.eml');
    writeFileSync(file, message({ subject: 'uploaded by curl', messageId: '<up@x>' }));
    await curl(`${base()}/Sent`, ['-T', file]);
    const sent = s.account.getMailbox('Sent')!;
    const rows = s.account.fetch(sent.id, [1], { headers: true });
    assert.equal(rows[0]?.headers?.subject, 'uploaded by curl');
  });
});
