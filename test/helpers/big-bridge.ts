/**
 * A real bridge (store, IMAP server; offline) for the big-mail responsiveness tests of issue 14,
 * a probe client that keeps doing LOGIN + SELECT + FETCH while a big request runs, and a raw
 * reader for a 20 MB literal (the transcript client decodes literals as text and copies its
 * whole buffer per packet: too slow for 20 MB).
 */
import assert from 'node:assert/strict';
import { connect as netConnect, Socket } from 'node:net';
import type { Bridge } from '../../app/index.ts';
import { ImapTestClient, message } from './imap-transcript.ts';
import { tempHome } from './cli.ts';
import { base64Lines, randomBytesFrom } from './big-mail.ts';
import { measureLoop } from './event-loop.ts';
import type { ProviderAccount } from './provider.ts';
import type { Seeded } from './seeded.ts';
import { addStoreAccount, initBridge } from './runtime-bridge.ts';

export const ME = 'me@example.test';
const PASSPHRASE = 'big mail passphrase';
export const LOCAL = 'big-mail-local-password';

/** A ~20 MB message: a short text part and a base64 attachment of 15 MiB seeded random bytes (CRLF). */
export function bigMessage(random: Seeded, attachment?: Buffer): { raw: Buffer; attachment: Buffer } {
  const head = [
    'From: Bob <bob@example.test>',
    `To: ${ME}`,
    'Subject: twenty megabytes',
    'Date: Mon, 23 Nov 2026 09:36:13 +0000',
    'Message-ID: <big@example.test>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'The scans are attached.',
    '--b1',
    'Content-Type: application/octet-stream; name="scans.bin"',
    'Content-Disposition: attachment; filename="scans.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    '',
  ].join('\r\n');
  const bin = attachment ?? randomBytesFrom(random, 15 * 1024 * 1024);
  return {
    raw: Buffer.concat([Buffer.from(head), base64Lines(bin), Buffer.from('--b1--\r\n')]),
    attachment: bin,
  };
}

/** A ~900 KB message (under the store's 1 MiB for chunked bodies): an attachment of seeded bytes. */
export function mediumMessage(random: Seeded, n: number): Buffer {
  const head = [
    'From: Bob <bob@example.test>',
    `To: ${ME}`,
    `Subject: scan ${n}`,
    `Message-ID: <medium-${n}@example.test>`,
    'MIME-Version: 1.0',
    'Content-Type: application/octet-stream; name="scan.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    '',
  ].join('\r\n');
  return Buffer.concat([Buffer.from(head), base64Lines(randomBytesFrom(random, 660_000))]);
}

/** A ~20 MB text/html message in quoted-printable: the text search reads. */
export function bigHtmlMessage(): Buffer {
  const line = '<p>Quarterly numbers =E2=80=93 line after line, <b>again</b> and again.</p>=\r\n';
  return Buffer.from(
    [
      'From: Bob <bob@example.test>',
      `To: ${ME}`,
      'Subject: a long newsletter',
      'Message-ID: <html@example.test>',
      'MIME-Version: 1.0',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      line.repeat(Math.ceil((20 * 1024 * 1024) / line.length)),
    ].join('\r\n'),
  );
}

export const MANY_PARTS = 14_000;

/**
 * ~1 MiB, built deterministically: a multipart/mixed of MANY_PARTS - 1 small text/plain parts (every
 * 7th with a name, charset and transfer encoding, so the header index and BODYSTRUCTURE have
 * something to say), then a message/rfc822 holding a multipart/alternative: parts MANY_PARTS.1 and
 * MANY_PARTS.2 are deep parts.
 */
export function manyPartsMessage(): Buffer {
  const parts: string[] = [];
  for (let i = 1; i < MANY_PARTS; i++)
    parts.push(
      i % 7 === 0
        ? `--b\r\nContent-Type: text/plain; charset=iso-8859-1; name="n${i}.txt"\r\n` +
            `Content-Transfer-Encoding: quoted-printable\r\n\r\nCaf=E9 ${i}\r\n`
        : `--b\r\nContent-Type: text/plain\r\n\r\npart ${i} of a message of many small parts\r\n`,
    );
  const inner = [
    'From: Carol <carol@example.test>',
    'Subject: inner',
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary="c"',
    '',
    '--c',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'the deep plain part',
    '--c',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>the deep html part</p>',
    '--c--',
    '',
  ].join('\r\n');
  return Buffer.from(
    [
      'From: Bob <bob@example.test>',
      `To: ${ME}`,
      'Subject: many parts',
      'Date: Mon, 23 Nov 2026 09:36:13 +0000',
      'Message-ID: <many-parts@example.test>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      `${parts.join('')}--b\r\nContent-Type: message/rfc822\r\n\r\n${inner}--b--\r\n`,
    ].join('\r\n'),
  );
}

export interface BigBridge {
  bridge: Bridge;
  imap: number;
  /** The bridge's SMTP submission port (user ME, password LOCAL; plaintext on loopback allowed). */
  smtp: number;
  login(): Promise<ImapTestClient>;
  /**
   * Runs `work` while another client keeps doing LOGIN + SELECT + FETCH (at least once); returns
   * its result, the event loop's longest delay meanwhile, how many probe sessions ran, the most
   * CPU time of one turn (`cpuMs`, see measureLoop) and the most bytes the bridge handed its IMAP
   * sockets in one turn of the event loop (`turnBytes`): measures of the work done at once that
   * hardly or not at all depend on the machine's load.
   */
  whileProbing<T>(
    work: () => Promise<T>,
  ): Promise<{ value: T; maxMs: number; cpuMs: number; probes: number; turnBytes: number }>;
  /**
   * Runs `command` on a fresh connection (after LOGIN, SELECT INBOX); the first literal of its
   * answer, as the pieces it came in (joining 20 MB at once is work of this process, the client,
   * that a measurement of the bridge's event loop must not include: up to 230 ms seen under load).
   */
  fetchLiteral(command: string): Promise<Buffer[]>;
  /**
   * Runs `command` (tag `f`) on a fresh connection after LOGIN and SELECT `mailbox`; its whole
   * answer through the tagged line, as the pieces it came in (see fetchLiteral).
   */
  fetchAnswer(command: string, mailbox: string): Promise<Buffer[]>;
  close(): Promise<void>;
}

/**
 * Starts the bridge with one account and one small message in INBOX (UID 1, Subject: small).
 * Offline unless `provider` is given: then the account is that provider user's (ME) and syncs.
 */
export async function startBigBridge(prefix: string, provider?: ProviderAccount): Promise<BigBridge> {
  const home = tempHome(prefix);
  const { bridge } = await initBridge({
    home: home.dir,
    passphrase: PASSPHRASE,
    localPassword: LOCAL,
    offline: !provider,
    discovery: { sources: { wkd: false, vks: false, hkp: false } },
  });
  addStoreAccount(bridge, ME, provider);
  await bridge.api.updateSettings({ allowPlaintextLoopback: true });
  const { imap, smtp } = await bridge.serve({ imapPort: 0, smtpPort: 0, control: false });
  const login = async (): Promise<ImapTestClient> => {
    const c = await ImapTestClient.connect(imap);
    const r = await c.cmd(`l LOGIN ${ME} ${LOCAL}`, 30_000);
    assert.match(r.at(-1)!, /^l OK /);
    return c;
  };
  const c = await login();
  const small = message({ subject: 'small', messageId: '<small@x>' });
  c.write(`s APPEND INBOX {${Buffer.byteLength(small)}+}\r\n${small}\r\n`);
  assert.match((await c.until('s', 30_000)).at(-1)!, /^s OK /);
  c.close();
  // indexed before a test begins: a test counts what it queued itself (big-fetch.test.ts)
  while (bridge.store.messages.ftsBacklog() > 0) await new Promise((r) => setTimeout(r, 20));

  const probe = async (): Promise<void> => {
    const p = await login();
    const sel = await p.cmd('p1 SELECT INBOX', 30_000);
    assert.match(sel.at(-1)!, /^p1 OK /);
    const f = await p.cmd('p2 FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])', 30_000);
    assert.match(f[0]!, /^\* 1 FETCH \(BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: small/);
    p.close();
  };

  return {
    bridge,
    imap,
    smtp,
    login,
    async whileProbing(work) {
      let probes = 0;
      const turns = watchTurnWrites(imap);
      const { value, maxMs, cpuMs } = await measureLoop(async () => {
        let done = false;
        const working = work().finally(() => (done = true));
        const probing = (async () => {
          do {
            await probe();
            probes++;
          } while (!done);
        })();
        const [value] = await Promise.all([working, probing]);
        return value;
      }).finally(() => turns.stop());
      return { value, maxMs, cpuMs, probes, turnBytes: turns.max() };
    },
    fetchLiteral: (command) => fetchLiteral(imap, command),
    fetchAnswer: (command, mailbox) => fetchAnswer(imap, command, mailbox),
    async close() {
      await bridge.close();
      home.cleanup();
    },
  };
}

/**
 * Counts the bytes written to the server's sockets (local port `port`) per turn of the event loop
 * (a turn ends at the next check phase: setImmediate); max() is the most in one turn. The bridge
 * runs in this process, so its socket writes go through Socket.prototype.write, wrapped here
 * until stop().
 */
function watchTurnWrites(port: number): { max(): number; stop(): void } {
  const write = Socket.prototype.write;
  let turn = 0;
  let max = 0;
  let ending: NodeJS.Immediate | null = null;
  Socket.prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]): boolean {
    if (this.localPort === port && (typeof chunk === 'string' || chunk instanceof Uint8Array)) {
      turn += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      max = Math.max(max, turn);
      ending ??= setImmediate(() => {
        turn = 0;
        ending = null;
      });
    }
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof write;
  return {
    max: () => max,
    stop() {
      Socket.prototype.write = write;
      if (ending) clearImmediate(ending);
    },
  };
}

function fetchAnswer(port: number, command: string, mailbox: string): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ port, host: '127.0.0.1' });
    let head = Buffer.alloc(0); // the answers to LOGIN and SELECT
    const parts: Buffer[] = [];
    let tail = ''; // the last bytes received, for the tagged line
    s.on('error', reject);
    s.on('data', (d: Buffer) => {
      if (!parts.length && !tail) {
        head = Buffer.concat([head, d]);
        const i = head.indexOf('\r\nx OK ');
        if (i < 0 || head.indexOf('\r\n', i + 2) < 0) return;
        d = head.subarray(head.indexOf('\r\n', i + 2) + 2);
        tail = '\r\n';
        s.write(`${command}\r\n`);
        if (!d.length) return;
      }
      parts.push(d);
      tail = (tail + d.subarray(-300).toString('latin1')).slice(-300);
      const m = /\r\nf (OK|NO|BAD) [^\r\n]*\r\n$/.exec(tail);
      if (!m) return;
      s.destroy();
      if (m[1] === 'OK') resolve(parts);
      else reject(new Error(m[0]));
    });
    s.write(`l LOGIN ${ME} ${LOCAL}\r\nx SELECT ${mailbox}\r\n`);
  });
}

function fetchLiteral(port: number, command: string): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ port, host: '127.0.0.1' });
    let head = Buffer.alloc(0); // text before the literal
    let sent = false;
    let literal: { n: number; parts: Buffer[]; have: number } | null = null;
    s.on('error', reject);
    s.on('data', (d: Buffer) => {
      if (literal) {
        literal.parts.push(d);
        literal.have += d.length;
      } else {
        head = Buffer.concat([head, d]);
        if (!sent) {
          const i = head.indexOf('\r\nx OK ');
          if (i < 0 || head.indexOf('\r\n', i + 2) < 0) return;
          sent = true;
          head = head.subarray(head.indexOf('\r\n', i + 2) + 2);
          s.write(`${command}\r\n`);
        }
        const text = head.toString('latin1');
        const m = /\{(\d+)\}\r\n/.exec(text);
        if (!m) {
          if (/^f (NO|BAD) /m.test(text)) reject(new Error(text));
          return;
        }
        const rest = head.subarray(m.index + m[0].length);
        literal = { n: Number(m[1]), parts: [rest], have: rest.length };
      }
      if (literal.have >= literal.n) {
        s.destroy();
        const parts = literal.parts;
        const over = literal.have - literal.n; // what follows the literal in the last piece
        if (over > 0) parts[parts.length - 1] = parts.at(-1)!.subarray(0, parts.at(-1)!.length - over);
        resolve(parts);
      }
    });
    s.write(`l LOGIN ${ME} ${LOCAL}\r\nx SELECT INBOX\r\n`);
  });
}
