import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Logger } from '../../../app/shared/logger.ts';
import { importFiles } from '../../../app/store/import/importer.ts';
import { newStore, reopen, tempDir } from '../../unit/store/helpers.ts';

function fileLogger(path: string): Logger {
  const write = (level: string) => (obj: object, msg?: string) =>
    appendFileSync(path, JSON.stringify({ level, ...obj, msg }) + '\n');
  const l: Logger = {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: () => l,
  };
  return l;
}

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

/** The marker as raw UTF-8, UTF-16LE/BE, lowercased, and base64 at each alignment. */
function needles(marker: string): Buffer[] {
  const out = [Buffer.from(marker), Buffer.from(marker.toLowerCase()), Buffer.from(marker, 'utf16le')];
  out.push(Buffer.from(Buffer.from(marker, 'utf16le').swap16()));
  for (let pad = 0; pad < 3; pad++) {
    const b64 = Buffer.from('x'.repeat(pad) + marker).toString('base64');
    // drop the characters that depend on the neighbouring bytes
    out.push(Buffer.from(b64.slice(Math.ceil((pad * 4) / 3) + 1, -3)));
  }
  return out;
}

function scan(dir: string, marker: string): string[] {
  const hits: string[] = [];
  for (const f of allFiles(dir)) {
    const data = readFileSync(f);
    for (const n of needles(marker))
      if (data.includes(n)) hits.push(`${f} contains ${JSON.stringify(n.toString('latin1'))}`);
  }
  return hits;
}

describe('no plaintext at rest', () => {
  const t = tempDir();
  after(t.cleanup);

  it('leaves no trace of imported mail in any file of the data directory', async () => {
    const marker = 'LbMarker' + randomBytes(8).toString('hex') + 'Zq';
    const home = join(t.dir, 'home');
    mkdirSync(join(home, 'logs'), { recursive: true, mode: 0o700 });
    const logger = fileLogger(join(home, 'logs', 'lockbridge.log'));
    const src = join(t.dir, 'in.mbox');
    const attachment = Buffer.from(`attached ${marker} payload`).toString('base64');
    const parts: string[] = [];
    for (let i = 0; i < 300; i++)
      parts.push(
        `From a@example.org Mon Nov 23 10:00:00 2026\n` +
          `From: "${marker} Sender" <a${i}@example.org>\nTo: b@example.org\nSubject: ${marker} subject ${i}\n` +
          `MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\n` +
          `Body ${i} mentions ${marker} twice: ${marker}\n--b\nContent-Type: application/octet-stream\n` +
          `Content-Transfer-Encoding: base64\n\n${attachment}\n--b--\n\n`,
      );
    writeFileSync(src, parts.join(''));

    const s = await newStore(home, { passphrase: 'pp', logger });
    const acc = s.accounts.create({
      email: 'np@example.org',
      imap: { host: 'h', port: 1 },
      smtp: { host: 'h', port: 2 },
      security: 'tls',
      providerPassword: marker + 'pw',
    });
    s.credentials.set(marker + 'local');
    const res = await importFiles({ store: s, accountId: acc.id, files: [src], logger, batchSize: 50 });
    assert.equal(res.imported, 300);
    const box = s.mailboxes.getByName(acc.id, 'INBOX')!;
    assert.deepEqual(s.messages.searchText(box.id, marker).length, 300, 'found while not yet indexed');
    s.flushIndex();
    assert.equal(s.messages.searchText(box.id, marker).length, 300);
    // while open: store.db, -wal, -shm, logs
    assert.ok(
      allFiles(home).some((f) => f.endsWith('-wal')),
      'the WAL exists while open',
    );
    assert.deepEqual(scan(home, marker), []);
    s.close();
    assert.deepEqual(scan(home, marker), []);
    // reopen and write more (new WAL frames)
    const s2 = await reopen(home, { passphrase: 'pp', logger });
    s2.messages.storeFlags(box.id, s2.messages.uids(box.id), 'add', ['\\Seen']);
    assert.deepEqual(scan(home, marker), []);
    s2.close();
    assert.deepEqual(scan(home, marker), []);
    // sanity: the scanner does find the marker in the plaintext source
    assert.ok(scan(t.dir, marker).some((h) => h.includes('in.mbox')));
  });
});
