/**
 * The headless control transport: HTTP + JSON on 127.0.0.1, speaking ControlApi.
 *
 *   POST /api/<method>   body: JSON array of arguments   → { result } | { error: { code, message } }
 *   GET  /api/events     Server-Sent Events, one BridgeEvent per `data:` line
 *   GET  /, /assets/...  the built React UI (only with `serve --ui`)
 *
 * Every /api request needs the token (`Authorization: Bearer <token>`; `?token=` only on the
 * /api/events stream, which EventSource opens without headers).
 * Requests whose Host or Origin is not this loopback listener are refused (DNS rebinding).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { BridgeEvent, ControlApi, ControlError, ControlErrorCode, ControlMethod } from '../contract.ts';
import { CONTROL_METHODS } from '../contract.ts';
import { toControlError } from '../errors.ts';
import type { Logger } from '../../shared/logger.ts';

export interface ControlServerOptions {
  api: ControlApi;
  subscribe(listener: (event: BridgeEvent) => void): () => void;
  token: string;
  port: number;
  /** Directory of the built renderer; serves the UI when set. */
  uiDir?: string;
  logger: Logger;
}

export interface ControlServer {
  port: number;
  close(): Promise<void>;
}

const MAX_BODY = 2 * 1024 * 1024;
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(data);
}

function sendError(res: ServerResponse, status: number, code: ControlErrorCode, message: string): void {
  const error: ControlError = { code, message };
  sendJson(res, status, { error });
}

/** Host must name this listener on loopback; Origin, when present, likewise. */
export function isLoopbackRequest(req: IncomingMessage, port: number): boolean {
  const allowed = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  const host = (req.headers.host ?? '').toLowerCase();
  if (!allowed.has(host)) return false;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    if (origin === 'null') return false;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    if (url.protocol !== 'http:' || !allowed.has(url.host.toLowerCase())) return false;
  }
  return true;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  const methods = new Set<string>(CONTROL_METHODS);
  let port = 0;
  const sseClients = new Set<ServerResponse>();

  const authorized = (req: IncomingMessage, url: URL): boolean => {
    const header = req.headers.authorization ?? '';
    const bearer = header.startsWith('Bearer ') ? header.slice(7) : '';
    // `?token=` only where a header cannot be sent: EventSource (a URL leaks into logs and history)
    const query =
      url.pathname === '/api/events' && req.method === 'GET' ? url.searchParams.get('token') : null;
    const given = bearer || query || '';
    return given !== '' && sameToken(given, opts.token);
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (!authorized(req, url)) return sendError(res, 401, 'unauthorized', 'missing or wrong control token');
    if (url.pathname === '/api/events' && req.method === 'GET') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write(': connected\n\n');
      sseClients.add(res);
      const unsubscribe = opts.subscribe((event) => res.write(`data: ${JSON.stringify(event)}\n\n`));
      req.on('close', () => {
        unsubscribe();
        sseClients.delete(res);
      });
      return;
    }
    const method = url.pathname.slice('/api/'.length);
    if (req.method !== 'POST') return sendError(res, 405, 'method-not-allowed', 'use POST');
    if (!methods.has(method))
      return sendError(res, 404, 'unknown-method', `unknown control method ${method}`);
    let args: unknown;
    try {
      const body = await readBody(req);
      args = body.length ? JSON.parse(body.toString('utf8')) : [];
    } catch (err) {
      const status = (err as { status?: number }).status ?? 400;
      return sendError(
        res,
        status,
        'bad-request',
        status === 413 ? 'request too large' : 'body must be a JSON array',
      );
    }
    if (!Array.isArray(args))
      return sendError(res, 400, 'bad-request', 'body must be a JSON array of arguments');
    try {
      const fn = opts.api[method as ControlMethod] as (...a: unknown[]) => Promise<unknown>;
      const result = await fn.apply(opts.api, args);
      sendJson(res, 200, { result: result ?? null });
    } catch (err) {
      const { status, error } = toControlError(err);
      if (status >= 500) opts.logger.error({ method, err }, 'control call failed');
      sendJson(res, status, { error });
    }
  };

  const handleStatic = async (res: ServerResponse, url: URL): Promise<void> => {
    if (!opts.uiDir) return sendError(res, 404, 'not-found', 'the UI is not served (start with --ui)');
    let decoded: string;
    try {
      decoded = decodeURIComponent(url.pathname);
    } catch {
      return sendError(res, 400, 'bad-request', 'bad percent-encoding in the path');
    }
    const rel = normalize(decoded).replace(/^([/\\])+/, '');
    const file = join(opts.uiDir, rel === '' ? 'index.html' : rel);
    if (!file.startsWith(opts.uiDir + sep) && file !== opts.uiDir)
      return sendError(res, 403, 'forbidden', 'bad path');
    let data: Buffer;
    let path = file;
    try {
      data = await readFile(file);
    } catch {
      path = join(opts.uiDir, 'index.html');
      try {
        data = await readFile(path);
      } catch {
        return sendError(res, 404, 'not-found', 'UI not built: run npm run build:ui');
      }
    }
    res.writeHead(200, {
      'content-type': MIME[extname(path)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'content-security-policy':
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    });
    res.end(data);
  };

  const server = createServer((req, res) => {
    if (!isLoopbackRequest(req, port)) {
      sendError(
        res,
        403,
        'forbidden-host',
        'requests must come from this machine (Host/Origin not loopback)',
      );
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    } catch {
      sendError(res, 400, 'bad-request', 'bad request target');
      return;
    }
    const work = url.pathname.startsWith('/api/') ? handleApi(req, res, url) : handleStatic(res, url);
    work.catch((err: unknown) => {
      opts.logger.error({ err }, 'control request failed');
      if (!res.headersSent) sendError(res, 500, 'internal', 'internal error');
      else res.end();
    });
  });
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of sseClients) c.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
