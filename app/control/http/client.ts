/**
 * Client for a running bridge's control server: the CLI uses it so that commands run while a
 * bridge serves take effect inside that bridge (and reach connected mail clients at once).
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { BridgeEvent, ControlApi, ControlError, ControlMethod } from '../contract.ts';
import { isErrorCode, UserError } from '../../shared/errors.ts';
import type { Paths } from '../../config/paths.ts';

export interface ControlEndpoint {
  port: number;
  token: string;
}

/** The endpoint of the bridge serving this data dir, or null when none is running. */
export function findRunningBridge(paths: Paths): (ControlEndpoint & { ui: boolean }) | null {
  let info: { port?: number; pid?: number; ui?: boolean };
  let token: string;
  try {
    info = JSON.parse(readFileSync(paths.controlInfo, 'utf8')) as typeof info;
    token = readFileSync(paths.controlToken, 'utf8').trim();
  } catch {
    return null;
  }
  if (!info.port || !info.pid || !token) return null;
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return null;
  }
  return { port: info.port, token, ui: info.ui === true };
}

export function callControl<M extends ControlMethod>(
  ep: ControlEndpoint,
  method: M,
  ...args: Parameters<ControlApi[M]>
): ReturnType<ControlApi[M]> {
  const body = JSON.stringify(args);
  const p = new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: ep.port,
        method: 'POST',
        path: `/api/${method}`,
        // A connection per call: reusing a kept-alive one races the server closing it when idle
        // ("socket hang up"), and a loopback connect costs next to nothing.
        agent: false,
        headers: {
          host: `127.0.0.1:${ep.port}`,
          authorization: `Bearer ${ep.token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let parsed: { result?: unknown; error?: ControlError };
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof parsed;
          } catch {
            reject(
              new UserError('control', `the running bridge answered HTTP ${res.statusCode} without JSON`),
            );
            return;
          }
          // a code of the transport ('unauthorized', 'internal', …) is the control connection's problem
          if (parsed.error)
            reject(
              new UserError(
                isErrorCode(parsed.error.code) ? parsed.error.code : 'control',
                parsed.error.message,
              ),
            );
          else resolve(parsed.result);
        });
      },
    );
    req.on('error', (err) =>
      reject(new UserError('control', `cannot reach the running bridge: ${err.message}`)),
    );
    req.end(body);
  });
  return p as ReturnType<ControlApi[M]>;
}

/** A ControlApi whose every call goes to the running bridge. */
export function remoteControlApi(ep: ControlEndpoint): ControlApi {
  return new Proxy({} as ControlApi, {
    get(_t, prop: string) {
      return (...args: unknown[]) => (callControl as (...a: unknown[]) => unknown)(ep, prop, ...args);
    },
  });
}

/**
 * Subscribes to the running bridge's events (the SSE stream the UI uses); resolves once the
 * stream is open, so no event after that point is missed. The returned function closes it.
 */
export function subscribeControl(ep: ControlEndpoint, cb: (e: BridgeEvent) => void): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: ep.port,
        method: 'GET',
        path: '/api/events',
        headers: { host: `127.0.0.1:${ep.port}`, authorization: `Bearer ${ep.token}` },
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(
            new UserError('control', `the running bridge refused its event stream (HTTP ${res.statusCode})`),
          );
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let end;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            for (const line of block.split('\n'))
              if (line.startsWith('data: ')) {
                try {
                  cb(JSON.parse(line.slice(6)) as BridgeEvent);
                } catch {
                  /* not an event: ignore */
                }
              }
          }
        });
        res.on('error', () => {});
        resolve(() => req.destroy());
      },
    );
    req.on('error', (err) =>
      reject(new UserError('control', `cannot reach the running bridge: ${err.message}`)),
    );
    req.end();
  });
}
