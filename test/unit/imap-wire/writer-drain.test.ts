// The response writer waits for the socket only while the socket wants it. A write the socket could
// not take at once asks for a 'drain'; if the socket drained before the writer was told to wait (a
// turn of the event loop between the two: IDLE's pushes, a CONTEXT update, a FETCH reading a big
// body), the old writer still remembered "wait" and waited for another 'drain', which no write had
// asked for: the session never answered again. Real sockets, the connection's own sink.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { setImmediate as turn } from 'node:timers/promises';
import { ResponseWriter } from '../../../app/imap/writer.ts';
import { SocketSink } from '../../../app/imap/connection.ts';

/** How long drain() may take before it counts as never resolving (it is immediate when right). */
const NEVER_MS = 10_000;

test('drain() resolves when the socket drained before it was called', async () => {
  let server!: Socket;
  const listening = createServer((s) => (server = s));
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  const port = (listening.address() as { port: number }).port;
  const client = connect(port, '127.0.0.1');
  let received = 0;
  client.on('data', (d: Buffer) => (received += d.length));
  try {
    while (!server) await turn();
    const w = new ResponseWriter(new SocketSink(server));
    // more than the kernel takes at once (loopback buffers a few MB): the socket asks to wait
    const big = Buffer.alloc(16 * 1024 * 1024, 0x61);
    w.bytes(big);
    w.flush();
    assert.ok(w.needsDrain, 'the socket asked to wait');
    // the client reads it all; the socket's 'drain' passes while nobody waits for it
    while (server.writableNeedDrain || received < big.length) await turn();
    w.line('x OK done');
    let timer: NodeJS.Timeout | undefined;
    const never = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`drain() did not resolve within ${NEVER_MS} ms`)), NEVER_MS);
    });
    await Promise.race([w.drain(), never]).finally(() => clearTimeout(timer));
    assert.ok(!w.needsDrain);
    while (received < big.length + 'x OK done\r\n'.length) await turn();
  } finally {
    client.destroy();
    server?.destroy();
    listening.close();
  }
});
