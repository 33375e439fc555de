/**
 * mbsync (isync) both directions against the Lockbridge IMAP server: new messages, flags,
 * deletions and a new folder; through a recording proxy so no tagged NO/BAD goes unnoticed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PASS, USER, message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { TestServer } from '../../helpers/imap-transcript.ts';
import { startRecordingProxy } from '../../helpers/imap-proxy.ts';
import type { RecordingProxy } from '../../helpers/imap-proxy.ts';

const run = promisify(execFile);

describe('mbsync', () => {
  let s: TestServer;
  let proxy: RecordingProxy;
  let dir: string;
  let rc: string;
  let local: string;
  before(async () => {
    s = await startTestServer();
    proxy = await startRecordingProxy(s.port);
    dir = mkdtempSync(join(tmpdir(), 'lb-mbsync-'));
    local = join(dir, 'mail');
    mkdirSync(local);
    rc = join(dir, 'mbsyncrc');
    writeFileSync(
      rc,
      [
        'IMAPAccount lb',
        'Host 127.0.0.1',
        `Port ${proxy.port}`,
        `User ${USER}`,
        `Pass ${PASS}`,
        'SSLType None',
        'AuthMechs LOGIN',
        '',
        'IMAPStore remote',
        'Account lb',
        '',
        'MaildirStore local',
        `Path ${local}/`,
        `Inbox ${local}/INBOX`,
        'SubFolders Verbatim',
        '',
        'Channel lb',
        'Far :remote:',
        'Near :local:',
        'Patterns *',
        'Create Both',
        'Expunge Both',
        'SyncState *',
        '',
      ].join('\n'),
    );
    for (let i = 1; i <= 3; i++)
      s.account.deliver('INBOX', message({ subject: `remote ${i}`, messageId: `<r${i}@x>` }));
  });
  after(async () => {
    await proxy.close();
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const sync = async (): Promise<void> => {
    await run('mbsync', ['-c', rc, '-a'], { timeout: 30_000 });
  };
  const files = (box: string): string[] => {
    const b = join(local, box);
    return [...readdirSync(join(b, 'cur')), ...readdirSync(join(b, 'new'))];
  };
  const inbox = (): string => s.account.getMailbox('INBOX')!.id;

  it('pulls, pushes, syncs flags, deletions and a new folder', async () => {
    await sync();
    assert.equal(files('INBOX').length, 3);
    assert.ok(files('Sent').length === 0);

    // Push a new message and a new folder.
    writeFileSync(
      join(local, 'INBOX', 'new', '1700000000.1_1.host'),
      message({ subject: 'local new', messageId: '<l1@x>' }),
    );
    mkdirSync(join(local, 'Projects', 'cur'), { recursive: true });
    mkdirSync(join(local, 'Projects', 'new'), { recursive: true });
    mkdirSync(join(local, 'Projects', 'tmp'), { recursive: true });
    writeFileSync(
      join(local, 'Projects', 'new', '1700000001.2_1.host'),
      message({ subject: 'in projects', messageId: '<p@x>' }),
    );
    // Mark one local message as seen.
    const inNew = join(local, 'INBOX', 'new');
    const first = readdirSync(inNew)
      .filter((n) => !n.startsWith('1700000000'))
      .sort()[0]!;
    renameSync(join(inNew, first), join(local, 'INBOX', 'cur', first.replace(/:2,.*$/, '') + ':2,S'));
    await sync();
    const rows = s.account.fetch(inbox(), [1, 2, 3, 4], { headers: true });
    assert.equal(rows.length, 4);
    assert.equal(rows.find((r) => r.headers?.subject === 'local new')?.uid, 4);
    assert.equal(rows.filter((r) => r.flags.includes('\\Seen')).length, 1);
    const projects = s.account.getMailbox('Projects');
    assert.ok(projects, 'folder created on the server');
    assert.equal(s.account.status(projects.id).messages, 1);

    // Server-side flag change and deletion reach the maildir.
    s.account.storeFlags(inbox(), [2], 'add', ['\\Flagged']);
    s.account.storeFlags(inbox(), [3], 'add', ['\\Deleted']);
    s.account.expunge(inbox());
    await sync();
    const names = files('INBOX');
    assert.equal(names.length, 3);
    assert.equal(names.filter((n) => /:2,[A-Z]*F/.test(n)).length, 1);
    assert.deepEqual(proxy.failures(), []);
  });
});
