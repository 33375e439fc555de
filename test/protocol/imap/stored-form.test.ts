/**
 * Issue 15 items 9 and 12, over the real store: what is served is legal IMAP and its size is what
 * is sent. A bare-LF message is served with CRLF (RFC822.SIZE = the bytes sent); a binary part
 * (RFC 3516 APPEND) is served base64 in BODY[] (no NUL in a plain literal) and as the original
 * bytes in BINARY[].
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startImapServer } from '../../../app/imap/server.ts';
import type { ImapServerHandle } from '../../../app/imap/server.ts';
import { createImapBackend } from '../../../app/control/adapters/imap-backend.ts';
import type { StoreImapBackend } from '../../../app/control/adapters/imap-backend.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import type { Store } from '../../../app/store/store.ts';
import { addLocalAccount, newStore, tempDir } from '../../unit/store/helpers.ts';
import { ImapTestClient, PASS, USER } from '../../helpers/imap-transcript.ts';
import { importFiles } from '../../../app/store/import/importer.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';

describe('stored form of appended and imported messages (real store)', () => {
  const t = tempDir('lb-imap-stored-');
  let store: Store;
  let backend: StoreImapBackend;
  let server: ImapServerHandle;
  let c: ImapTestClient;
  before(async () => {
    store = await newStore(t.dir);
    addLocalAccount(store, USER, PASS);
    backend = createImapBackend(store, { logger: silentLogger });
    server = await startImapServer({ backend, port: 0, allowPlaintextLogin: true });
    c = await ImapTestClient.connect(server.port);
    await c.cmd(`L LOGIN ${USER} ${PASS}`);
  });
  after(async () => {
    c.close();
    await server.close();
    backend.dispose();
    store.close();
    t.cleanup();
  });

  it('item 12: a bare-LF message is served with CRLF and RFC822.SIZE equal to what is sent', async () => {
    const lf = 'From: a@example.test\nSubject: mbox style\n\nline one\nline two\n';
    await c.cmd('b0 CREATE Lf');
    await c.expect(`b1 APPEND Lf {${lf.length}+}\r\n${lf}`, [
      /^b1 OK \[APPENDUID \d+ 1\] Append completed\.$/,
    ]);
    await c.cmd('b2 SELECT Lf');
    const crlf = lf.replace(/\n/g, '\r\n');
    await c.expect('b3 FETCH 1 (RFC822.SIZE BODY.PEEK[])', [
      `* 1 FETCH (RFC822.SIZE ${crlf.length} BODY[] {${crlf.length}}\r\n${crlf})`,
      'b3 OK Fetch completed.',
    ]);
  });

  it('item 12: an imported bare-LF message too', async () => {
    const lf = 'From: a@example.test\nSubject: imported\n\nbody\n';
    const file = join(t.dir, 'one.eml');
    writeFileSync(file, lf);
    const acc = store.accounts.getByEmail(USER)!;
    const res = await importFiles({
      store,
      accountId: acc.id,
      mailbox: 'Imported',
      files: [file],
      logger: silentLogger,
      threads: 0,
    });
    assert.equal(res.imported, 1);
    await c.cmd('i1 SELECT Imported');
    const crlf = lf.replace(/\n/g, '\r\n');
    await c.expect('i2 FETCH 1 (RFC822.SIZE BODY.PEEK[])', [
      `* 1 FETCH (RFC822.SIZE ${crlf.length} BODY[] {${crlf.length}}\r\n${crlf})`,
      'i2 OK Fetch completed.',
    ]);
  });

  it('item 9: a binary part is base64 in BODY[] and the original bytes in BINARY[]', async () => {
    const bin = Buffer.from([0, 1, 2, 0x0a, 0xff, 0, 0x0d, 0x41]);
    const head = Buffer.from(
      'From: a@example.test\r\nSubject: binary\r\nMIME-Version: 1.0\r\n' +
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n' +
        '--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n',
    );
    const tail = Buffer.from('\r\n--b--\r\n');
    const msg = Buffer.concat([head, bin, tail]);
    await c.cmd('n0 CREATE Bin');
    c.write(Buffer.concat([Buffer.from(`n1 APPEND Bin ~{${msg.length}+}\r\n`), msg, Buffer.from('\r\n')]));
    const r = await c.until('n1');
    assert.match(r[r.length - 1]!, /^n1 OK /);
    await c.cmd('n2 SELECT Bin');
    const b64 = bin.toString('base64');
    await c.expect('n3 FETCH 1 (BODY.PEEK[2] BODY.PEEK[2.MIME])', [
      `* 1 FETCH (BODY[2] {${b64.length}}\r\n${b64} BODY[2.MIME] {77}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n)`,
      'n3 OK Fetch completed.',
    ]);
    const full = await c.cmd('n4 FETCH 1 (BODY.PEEK[])');
    assert.ok(!full[0]!.includes('\0'), 'no NUL in BODY[]');
    const size = await c.cmd('n5 FETCH 1 (BINARY.SIZE[2] RFC822.SIZE)');
    assert.match(
      size[0]!,
      new RegExp(
        `^\\* 1 FETCH \\(BINARY\\.SIZE\\[2\\] ${bin.length} RFC822\\.SIZE ${Buffer.byteLength(full[0]!.split('\r\n').slice(1).join('\r\n').slice(0, -1))}\\)$`,
      ),
    );
    // BINARY[2] gives back the very bytes appended.
    c.write('n6 FETCH 1 (BINARY.PEEK[2])\r\n');
    const raw = await new Promise<Buffer>((resolve) => {
      let acc = Buffer.alloc(0);
      const sock = (c as unknown as { socket: Socket }).socket;
      const on = (d: Buffer): void => {
        acc = Buffer.concat([acc, d]);
        if (acc.includes('n6 OK')) {
          sock.off('data', on);
          resolve(acc);
        }
      };
      sock.on('data', on);
    });
    const marker = `BINARY[2] ~{${bin.length}}\r\n`;
    const at = raw.indexOf(marker);
    assert.ok(at > 0, raw.toString('latin1'));
    assert.deepEqual(raw.subarray(at + marker.length, at + marker.length + bin.length), bin);
  });
});
