/**
 * A real HTTPS server on 127.0.0.1 (free port) for key-discovery tests. Routes are matched on
 * `Host` (without port) + path + query; unknown routes get 404. Every request is logged so tests
 * can assert what the client asked for.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status?: number;
  contentType?: string;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  /** Never answer (to test timeouts); the socket is destroyed at close(). */
  hang?: boolean;
}

export type Route = (req: IncomingMessage, url: URL) => Reply | undefined;

export interface TestHttpsServer {
  port: number;
  requests: { host: string; path: string; headers: IncomingMessage['headers'] }[];
  routes: Map<string, Reply>;
  /** Extra dynamic handler, tried before `routes`. */
  handler: Route | null;
  close(): Promise<void>;
}

export async function startHttpsServer(opts: { certPem: string; keyPem: string }): Promise<TestHttpsServer> {
  const state: TestHttpsServer = {
    port: 0,
    requests: [],
    routes: new Map(),
    handler: null,
    close: async () => {},
  };
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer({ cert: opts.certPem, key: opts.keyPem }, (req, res) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    const url = new URL(req.url ?? '/', `https://${host}`);
    state.requests.push({ host, path: url.pathname + url.search, headers: req.headers });
    const reply =
      state.handler?.(req, url) ??
      state.routes.get(host + url.pathname + url.search) ??
      state.routes.get(host + url.pathname);
    if (!reply) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if (reply.hang) {
      hanging.add(res);
      return;
    }
    res.writeHead(reply.status ?? 200, {
      'content-type': reply.contentType ?? 'application/octet-stream',
      ...(reply.headers ?? {}),
    });
    res.end(reply.body === undefined ? undefined : Buffer.from(reply.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
