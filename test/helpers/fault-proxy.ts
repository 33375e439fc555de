/**
 * A fault-injecting TCP proxy for plaintext IMAP or SMTP between the bridge and the provider: it
 * plays the network that lies. It can reset every connection, black-hole them (bytes vanish, no
 * reset: a lost NAT mapping, a laptop asleep), and swallow one reply the server sends (forward
 * everything before the matching line, then cut the connection: the server acted, the client never
 * hears of it), or refuse one command (answer it NO without the server seeing it). Client lines can be watched (e.g. to SIGKILL the bridge at its k-th MAIL FROM).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface FaultProxy {
  readonly port: number;
  /** Resets every open connection (RST). */
  resetAll(): void;
  /**
   * While on, every byte in both directions is dropped, new connections are accepted and then
   * hang. Connections black-holed once stay dead after it is turned off (their state is gone).
   */
  blackhole(on: boolean): void;
  /** The next server line matching `pattern` is not delivered: the connection is cut just before it. */
  swallowNext(pattern: RegExp): Promise<string>;
  /**
   * The next client command matching `pattern` never reaches the server: the proxy answers it with
   * `<tag> NO <text>` (a provider refusing one command). Resolves with the refused line.
   */
  refuseNext(pattern: RegExp, text: string): Promise<string>;
  /** Calls `fn` with every complete line a client sends (before it is forwarded). */
  onClientLine(fn: ((line: string) => void) | null): void;
  /** Calls `fn` with every complete line the server sends (after it is forwarded). */
  onServerLine(fn: ((line: string) => void) | null): void;
  /** Counts of what was done, for the test's report. */
  readonly stats: { connections: number; resets: number; swallowed: number; blackholed: number };
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  dead: boolean;
  serverBuf: Buffer;
  clientBuf: Buffer;
  /** client bytes held back while a refusal is armed (forwarded line by line) */
  heldBuf: Buffer;
}

export async function startFaultProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  let holing = false;
  const swallows: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const refusals: Array<{ pattern: RegExp; text: string; resolve: (line: string) => void }> = [];
  let clientHook: ((line: string) => void) | null = null;
  let serverHook: ((line: string) => void) | null = null;
  const stats = { connections: 0, resets: 0, swallowed: 0, blackholed: 0 };

  const kill = (p: Pair): void => {
    pairs.delete(p);
    p.client.resetAndDestroy();
    p.upstream.resetAndDestroy();
  };

  const server: Server = createServer((client) => {
    stats.connections++;
    const upstream = connect({ port: targetPort, host: targetHost });
    const p: Pair = {
      client,
      upstream,
      dead: holing,
      serverBuf: Buffer.alloc(0),
      clientBuf: Buffer.alloc(0),
      heldBuf: Buffer.alloc(0),
    };
    pairs.add(p);
    upstream.on('data', (d: Buffer) => {
      if (p.dead) return;
      // Forward whole lines only, so a swallow rule can stop right before a line.
      p.serverBuf = Buffer.concat([p.serverBuf, d]);
      const end = p.serverBuf.lastIndexOf('\n');
      if (end < 0) return;
      const chunk = p.serverBuf.subarray(0, end + 1);
      p.serverBuf = p.serverBuf.subarray(end + 1);
      if (swallows.length) {
        let off = 0;
        while (off < chunk.length) {
          const nl = chunk.indexOf('\n', off);
          const line = chunk.subarray(off, nl + 1).toString('latin1');
          const k = swallows.findIndex((s) => s.pattern.test(line));
          if (k >= 0) {
            const [s] = swallows.splice(k, 1);
            client.write(chunk.subarray(0, off));
            stats.swallowed++;
            kill(p);
            s!.resolve(line.trimEnd());
            return;
          }
          off = nl + 1;
        }
      }
      client.write(chunk);
      if (serverHook)
        for (const line of chunk.toString('latin1').split('\n')) if (line) serverHook(line.trimEnd());
    });
    client.on('data', (d: Buffer) => {
      if (p.dead) return;
      if (clientHook) {
        p.clientBuf = Buffer.concat([p.clientBuf, d]);
        let nl;
        while ((nl = p.clientBuf.indexOf('\n')) >= 0) {
          const line = p.clientBuf.subarray(0, nl).toString('latin1').trimEnd();
          p.clientBuf = p.clientBuf.subarray(nl + 1);
          clientHook(line);
        }
      }
      if (p.dead) return;
      if (!refusals.length && !p.heldBuf.length) {
        upstream.write(d);
        return;
      }
      // A refusal is armed: forward whole lines, answering a matching command here instead.
      p.heldBuf = Buffer.concat([p.heldBuf, d]);
      let nl;
      while ((nl = p.heldBuf.indexOf('\n')) >= 0) {
        const raw = p.heldBuf.subarray(0, nl + 1);
        p.heldBuf = p.heldBuf.subarray(nl + 1);
        const line = raw.toString('latin1').trimEnd();
        const k = refusals.findIndex((r) => r.pattern.test(line));
        if (k < 0) {
          upstream.write(raw);
          continue;
        }
        const [r] = refusals.splice(k, 1);
        client.write(`${line.split(' ')[0]} NO ${r!.text}\r\n`);
        r!.resolve(line);
      }
      if (!refusals.length && p.heldBuf.length) {
        upstream.write(p.heldBuf);
        p.heldBuf = Buffer.alloc(0);
      }
    });
    const end = (): void => {
      pairs.delete(p);
      client.destroy();
      upstream.destroy();
    };
    // A black-holed connection ends only from the client's side (its own timeout).
    client.on('error', end);
    client.on('close', end);
    upstream.on('error', () => (p.dead ? undefined : end()));
    upstream.on('close', () => (p.dead ? undefined : end()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    stats,
    resetAll() {
      for (const p of [...pairs]) {
        stats.resets++;
        kill(p);
      }
    },
    blackhole(on) {
      holing = on;
      if (on)
        for (const p of pairs)
          if (!p.dead) {
            p.dead = true;
            stats.blackholed++;
          }
    },
    swallowNext(pattern) {
      return new Promise((resolve) => swallows.push({ pattern, resolve }));
    },
    refuseNext(pattern, text) {
      return new Promise((resolve) => refusals.push({ pattern, text, resolve }));
    },
    onClientLine(fn) {
      clientHook = fn;
    },
    onServerLine(fn) {
      serverHook = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const p of [...pairs]) kill(p);
        server.close(() => resolve());
      }),
  };
}
