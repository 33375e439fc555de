/**
 * A recording TCP proxy for plaintext IMAP: lets a real client's session be checked afterwards
 * (e.g. "no tagged NO or BAD"). Records server → client lines.
 */
import { createServer, connect } from 'node:net';
import type { Server } from 'node:net';

export interface RecordingProxy {
  port: number;
  /** Server lines seen so far (literal contents included as lines). */
  serverLines(): string[];
  /** Tagged NO / BAD replies the server sent. */
  failures(): string[];
  close(): Promise<void>;
}

export async function startRecordingProxy(targetPort: number): Promise<RecordingProxy> {
  const chunks: Buffer[] = [];
  const server: Server = createServer((client) => {
    const upstream = connect({ port: targetPort, host: '127.0.0.1' });
    client.pipe(upstream);
    upstream.on('data', (d: Buffer) => chunks.push(d));
    upstream.pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const lines = (): string[] => Buffer.concat(chunks).toString('utf8').split('\r\n');
  return {
    port,
    serverLines: lines,
    failures: () => lines().filter((l) => /^[^*+ ]+ (NO|BAD)( |$)/.test(l)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
