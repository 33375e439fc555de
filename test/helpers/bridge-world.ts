/**
 * The user's whole world for sync tests: a real provider (Dovecot + Postfix), fault-injecting
 * proxies between the bridge and the provider's IMAP and SMTP, the real `lockbridge` CLI set up
 * the way a user does it (init, account add through the proxies), `serve` as a child process that
 * can be SIGKILLed and restarted, IMAP clients at the bridge and directly at the provider.
 * LB_WORLD_DEBUG=1 runs the bridge with debug logging and prints its log after each run;
 * LB_WORLD_LOG=FILE appends every run's log to FILE instead (a long run's stderr is cut).
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import type { SendMailOptions } from 'nodemailer';
import * as openpgp from 'openpgp';
import { startProvider, type Provider } from './provider.ts';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';
import { startDnsServer } from './dns-server.ts';
import { cliAsync, serve, tempHome, type ServeHandle } from './cli.ts';
import { bridgeSmtp } from './runtime-bridge.ts';

function debugLog(how: string, log: string): void {
  const file = process.env.LB_WORLD_LOG;
  if (file) appendFileSync(file, `===== bridge run ${how} at ${new Date().toISOString()}\n${log}`);
  else if (process.env.LB_WORLD_DEBUG) process.stderr.write(log);
}

export interface WorldOptions {
  user?: string;
  /** LOCKBRIDGE_POLL_SECONDS for serve (default 2: tests should not wait a minute). */
  pollSeconds?: number;
  /** LOCKBRIDGE_PROBE_SECONDS for serve (default: the product's 20 s). */
  probeSeconds?: number;
  /** The data directory (made by the caller, e.g. on a small tmpfs); by default a new temp dir. */
  home?: string;
}

export interface ProviderMessage {
  uid: number;
  flags: string[];
  size: number;
  /** The message as the user wrote it: an own encrypted upload is decrypted. */
  plain: Buffer;
  uploadToken: string | null;
  /** The outer Message-ID header (of the envelope as stored at the provider), or null. */
  messageId: string | null;
}

export interface World {
  readonly provider: Provider;
  readonly imapProxy: FaultProxy;
  readonly smtpProxy: FaultProxy;
  readonly user: string;
  readonly home: string;
  readonly env: Record<string, string>;
  readonly bridge: ServeHandle | null;
  start(): Promise<ServeHandle>;
  kill(): Promise<void>;
  stop(): Promise<void>;
  /** Sends through the bridge's SMTP server as a mail client does (STARTTLS, verified, AUTH). */
  submit(mail: SendMailOptions): Promise<{ response: string }>;
  /** A logged-in IMAP client at the bridge (STARTTLS, verified). */
  localClient(): Promise<ImapFlow>;
  /** A logged-in IMAP client directly at the provider (another device of the user). */
  providerClient(): Promise<ImapFlow>;
  providerMessages(mailbox: string): Promise<ProviderMessage[]>;
  /** `lockbridge status --json` through the running bridge: this account's entry. */
  accountStatus(): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export const WORLD_PASSPHRASE = 'world passphrase 1';
const PASS = WORLD_PASSPHRASE;
const LOCAL = 'world-local-password';
const PROVIDER_PW = 'world-provider-pw';

export async function startWorld(o: WorldOptions = {}): Promise<World> {
  const provider = await startProvider({ postfix: true }); // account add verifies the SMTP login too
  const user = o.user ?? 'me@example.test';
  await provider.addUser(user, PROVIDER_PW);
  const imapProxy = await startFaultProxy(provider.imapPort);
  const smtpProxy = await startFaultProxy(provider.smtpPort);
  // A resolver where the provider's domain exists (the recipient-domain check of outgoing mail).
  const dns = await startDnsServer({}, { [provider.domain]: ['127.0.0.1'] });
  const h = o.home ? { dir: o.home, cleanup: () => {} } : tempHome('lb-world-');
  const env: Record<string, string> = {
    LOCKBRIDGE_PASSPHRASE: PASS,
    LOCKBRIDGE_LOCAL_PASSWORD: LOCAL,
    LOCKBRIDGE_PROVIDER_PASSWORD: PROVIDER_PW,
    LOCKBRIDGE_POLL_SECONDS: String(o.pollSeconds ?? 2),
    ...(o.probeSeconds ? { LOCKBRIDGE_PROBE_SECONDS: String(o.probeSeconds) } : {}),
    LOCKBRIDGE_DNS_SERVERS: dns.address,
    ...(process.env.LB_WORLD_DEBUG ? { LOCKBRIDGE_LOG_LEVEL: 'debug' } : {}),
  };
  const must = async (args: string[]): Promise<string> => {
    const r = await cliAsync(['--home', h.dir, ...args], env);
    if (r.status !== 0) throw new Error(`lockbridge ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  await must(['init']);
  const ca = join(h.dir, 'provider-ca.pem');
  writeFileSync(ca, provider.caPem);
  await must([
    'account',
    'add',
    '--email',
    user,
    '--imap',
    `127.0.0.1:${imapProxy.port}`,
    '--smtp',
    `127.0.0.1:${smtpProxy.port}`,
    '--security',
    'none',
  ]);
  const caPem = (JSON.parse(await must(['credentials', '--json'])) as { caPem: string }).caPem;
  const armored = await must(['keys', 'export', user, '--secret']);
  const secretKey = await openpgp.readPrivateKey({ armoredKey: armored });

  let bridge: ServeHandle | null = null;
  const clients: ImapFlow[] = [];
  const connectTo = async (opts: ConstructorParameters<typeof ImapFlow>[0]): Promise<ImapFlow> => {
    const c = new ImapFlow({ logger: false, ...opts });
    c.on('error', () => {});
    await c.connect();
    clients.push(c);
    return c;
  };

  const world: World = {
    provider,
    imapProxy,
    smtpProxy,
    user,
    home: h.dir,
    env,
    get bridge() {
      return bridge;
    },
    async start() {
      bridge = await serve(h.dir, ['--imap-port', '0', '--smtp-port', '0'], env);
      return bridge;
    },
    async kill() {
      if (bridge) {
        debugLog('killed', bridge.stderr());
        await bridge.stop('SIGKILL');
      }
      bridge = null;
    },
    async stop() {
      if (bridge) {
        debugLog('stopped', bridge.stderr());
        await bridge.stop('SIGTERM');
      }
      bridge = null;
    },
    async submit(mail) {
      if (!bridge) throw new Error('the bridge is not running');
      const t = bridgeSmtp(bridge.ready.smtp, caPem, user, LOCAL);
      try {
        return (await t.sendMail(mail)) as { response: string };
      } finally {
        t.close();
      }
    },
    localClient() {
      if (!bridge) throw new Error('the bridge is not running');
      return connectTo({
        host: '127.0.0.1',
        port: bridge.ready.imap,
        secure: false,
        doSTARTTLS: true,
        tls: { ca: [caPem], servername: 'localhost' },
        auth: { user, pass: LOCAL },
      });
    },
    async providerClient() {
      const c = await provider.imapClient(user);
      c.on('error', () => {});
      clients.push(c);
      return c;
    },
    async providerMessages(mailbox) {
      const c = await provider.imapClient(user);
      c.on('error', () => {});
      const out: ProviderMessage[] = [];
      try {
        const lock = await c.getMailboxLock(mailbox, { readOnly: true });
        try {
          if ((c.mailbox && c.mailbox.exists) || 0)
            for await (const m of c.fetch('1:*', { uid: true, flags: true, size: true, source: true })) {
              // a flag change made meanwhile (the bridge's own) comes as a FETCH of its flags alone,
              // which imapflow hands out too: the answer with the message follows
              if (!m.source) continue;
              out.push({
                uid: m.uid,
                flags: [...(m.flags ?? [])].sort(),
                size: m.size ?? 0,
                plain: await plainOf(m.source!, secretKey),
                uploadToken: headerOf(m.source!, 'x-lockbridge-upload'),
                messageId: headerOf(m.source!, 'message-id'),
              });
            }
        } finally {
          lock.release();
        }
      } finally {
        await c.logout().catch(() => {});
      }
      return out;
    },
    async accountStatus() {
      const r = await cliAsync(['--home', h.dir, 'status', '--json'], { LOCKBRIDGE_PASSPHRASE: '' });
      if (r.status !== 0) throw new Error(`status failed: ${r.stderr}`);
      const s = JSON.parse(r.stdout) as { accounts: Array<Record<string, unknown>> };
      return s.accounts.find((a) => a.email === user) ?? {};
    },
    async close() {
      for (const c of clients) c.close();
      await world.kill();
      await imapProxy.close();
      await smtpProxy.close();
      await dns.close();
      await provider.close();
      h.cleanup();
    },
  };
  return world;
}

/**
 * Polls `fn` every 300 ms until it returns something truthy, and returns that; an error it throws
 * counts as "not yet" and is named in the timeout's message.
 */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | false | undefined>,
  ms = 120_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** A mailbox as the bridge serves it to a local IMAP client: each message as UTF-8 text, by Subject. */
export async function servedBySubject(w: World, mailbox = 'INBOX'): Promise<Map<string, string>> {
  const c = await w.localClient();
  const out = new Map<string, string>();
  try {
    const lock = await c.getMailboxLock(mailbox, { readOnly: true });
    try {
      if (c.mailbox && c.mailbox.exists)
        for await (const m of c.fetch('1:*', { uid: true, source: true })) {
          const text = m.source!.toString('utf8');
          out.set(/^Subject: (.*)$/m.exec(text)?.[1]?.trim() ?? '', text);
        }
    } finally {
      lock.release();
    }
  } finally {
    await c.logout().catch(() => {});
  }
  return out;
}

/** A header's unfolded value from the top header block, or null. */
export function headerOf(raw: Buffer | string, name: string): string | null {
  const end = raw.indexOf('\r\n\r\n');
  const head =
    typeof raw === 'string'
      ? raw.slice(0, end < 0 ? raw.length : end)
      : raw.subarray(0, end < 0 ? raw.length : end).toString('latin1');
  const m = new RegExp(`^${name}:[ \\t]*(.*(?:\\r\\n[ \\t].*)*)`, 'im').exec(head);
  return m ? m[1]!.replace(/\r\n[ \t]+/g, ' ').trim() : null;
}

/** An own encrypted upload decrypted to the message inside; anything else as it is. */
async function plainOf(raw: Buffer, key: openpgp.PrivateKey): Promise<Buffer> {
  if (!/^content-type:\s*multipart\/encrypted/im.test(raw.subarray(0, 4096).toString('latin1'))) return raw;
  const text = raw.toString('latin1');
  const a = text.indexOf('-----BEGIN PGP MESSAGE-----');
  const b = text.indexOf('-----END PGP MESSAGE-----');
  if (a < 0 || b < 0) return raw;
  const message = await openpgp.readMessage({ armoredMessage: text.slice(a, b + 25) });
  const { data } = await openpgp.decrypt({ message, decryptionKeys: key, format: 'binary' });
  return Buffer.from(data as Uint8Array);
}
