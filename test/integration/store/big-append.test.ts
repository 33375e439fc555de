/**
 * Issue 14 "No single request may freeze the bridge", for big mail: APPEND of a ~20 MB message
 * through the real bridge (store, IMAP server) while another client keeps doing LOGIN + SELECT +
 * FETCH. The event loop's longest delay during the append (perf_hooks.monitorEventLoopDelay) stays
 * within 200 ms, and the message comes back byte-exact.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connect as netConnect } from 'node:net';
import { createBridge, initHome } from '../../../app/index.ts';
import type { Bridge } from '../../../app/index.ts';
import { LogRing } from '../../../app/config/logging.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { ImapTestClient, message } from '../../helpers/imap-transcript.ts';
import { tempHome } from '../../helpers/cli.ts';
import { base64Lines, randomBytesFrom } from '../../helpers/big-mail.ts';
import { seeded, type Seeded } from '../../helpers/seeded.ts';

const LOOP_BOUND_MS = 200;
const PASSPHRASE = 'big append passphrase';
const LOCAL = 'big-append-local-password';
const ME = 'me@example.test';

/** A ~20 MB message: a short text part and a base64 attachment of seeded random bytes (CRLF). */
function bigMessage(random: Seeded): Buffer {
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
  const b64 = base64Lines(randomBytesFrom(random, 15 * 1024 * 1024));
  return Buffer.concat([Buffer.from(head), b64, Buffer.from('--b1--\r\n')]);
}

async function login(port: number): Promise<ImapTestClient> {
  const c = await ImapTestClient.connect(port);
  const r = await c.cmd(`l LOGIN ${ME} ${LOCAL}`, 30_000);
  assert.match(r.at(-1)!, /^l OK /);
  return c;
}

/** The other client: LOGIN + SELECT + FETCH. */
async function probe(imapPort: number): Promise<void> {
  const c = await login(imapPort);
  const sel = await c.cmd('p1 SELECT INBOX', 30_000);
  assert.match(sel.at(-1)!, /^p1 OK /);
  const f = await c.cmd('p2 FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])', 30_000);
  assert.match(f[0]!, /^\* 1 FETCH \(BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: small/);
  c.close();
}

/**
 * Runs one command on a fresh connection (after LOGIN and SELECT INBOX) and returns the first
 * literal of its answer as bytes (the transcript client decodes literals as text and copies its
 * whole buffer per packet: too slow for 20 MB).
 */
function fetchLiteral(port: number, command: string): Promise<Buffer> {
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
        resolve(Buffer.concat(literal.parts).subarray(0, literal.n));
      }
    });
    s.write(`l LOGIN ${ME} ${LOCAL}\r\nx SELECT INBOX\r\n`);
  });
}

describe('a 20 MB APPEND leaves the bridge responsive (issue 14)', () => {
  const home = tempHome('lb-bigappend-');
  const random = seeded();
  let bridge: Bridge;
  let imap = 0;

  before(async () => {
    await initHome({ home: home.dir, passphrase: PASSPHRASE, localPassword: LOCAL, logger: silentLogger });
    bridge = await createBridge({
      home: home.dir,
      passphrase: PASSPHRASE,
      logger: silentLogger,
      logs: new LogRing(),
      offline: true,
    });
    bridge.store.accounts.create({
      email: ME,
      imap: { host: '127.0.0.1', port: 1 },
      smtp: { host: '127.0.0.1', port: 1 },
      security: 'starttls',
      username: ME,
      providerPassword: 'x',
      caPem: null,
    });
    await bridge.api.updateSettings({ allowPlaintextLoopback: true });
    imap = (await bridge.serve({ imapPort: 0, smtpPort: 0, control: false })).imap;
    const c = await login(imap);
    const small = message({ subject: 'small', messageId: '<small@x>' });
    c.write(`s APPEND INBOX {${Buffer.byteLength(small)}+}\r\n${small}\r\n`);
    assert.match((await c.until('s', 30_000)).at(-1)!, /^s OK /);
    c.close();
  });
  after(async () => {
    await bridge?.close();
    home.cleanup();
  });

  /**
   * APPENDs `big` while another client keeps logging in, selecting and fetching; returns the
   * event loop's longest delay meanwhile and checks the message comes back byte-exact as `uid`.
   */
  async function appendWhileProbing(what: string, big: Buffer, uid: number): Promise<number> {
    const c = await login(imap);
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    let probes = 0;
    let started = 0;
    let appendMs = 0;
    let reply: string[];
    try {
      await new Promise((r) => setTimeout(r, 50)); // the monitor is ticking
      started = performance.now();
      c.write(`big APPEND INBOX {${big.length}+}\r\n`);
      c.write(big);
      c.write('\r\n');
      let appended = false;
      const appending = c.until('big', 120_000).finally(() => {
        appended = true;
        appendMs = performance.now() - started;
      });
      const probing = (async () => {
        while (!appended) {
          await probe(imap);
          probes++;
        }
      })();
      reply = await appending;
      await probing;
      await new Promise((r) => setTimeout(r, 30)); // a blocked loop is recorded when it turns again
    } finally {
      h.disable();
      c.close();
    }
    const ms = h.max / 1e6;
    console.log(
      `# ${what}: max event-loop delay ${ms.toFixed(0)} ms, ${appendMs.toFixed(0)} ms ` +
        `(${(big.length / 1048576 / (appendMs / 1000)).toFixed(1)} MiB/s), ${probes} probe sessions meanwhile`,
    );
    assert.match(reply.at(-1)!, new RegExp(`^big OK \\[APPENDUID \\d+ ${uid}\\] `));
    assert.ok(probes >= 1);
    const back = await fetchLiteral(imap, `f UID FETCH ${uid} (BODY.PEEK[])`);
    assert.equal(back.length, big.length);
    assert.ok(back.equals(big), 'the message comes back byte-exact');
    return ms;
  }

  function assertLoop(ms: number): void {
    assert.ok(ms <= LOOP_BOUND_MS, `event loop blocked ${ms.toFixed(0)} ms (bound ${LOOP_BOUND_MS} ms)`);
  }

  it('APPEND of a 20 MB message while another client logs in, selects and fetches', () =>
    random.report(async () => {
      const big = bigMessage(random); // built first: this process is the client too
      assertLoop(await appendWhileProbing('20 MB APPEND', big, 2));
    }));

  it('APPEND of a 20 MB HTML message (quoted-printable): its text for search is not decoded whole', async () => {
    const line = '<p>Quarterly numbers =E2=80=93 line after line, <b>again</b> and again.</p>=\r\n';
    const big = Buffer.from(
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
    assertLoop(await appendWhileProbing('20 MB HTML APPEND', big, 3));
  });
});
