// The IPC side of window.bridge: who may call (only the app page in the app window's top frame),
// what may be called (ControlApi method names, a small array of plain JSON), and how errors come
// back ({ code, message } from the engine's one formatter; never a stack or internals).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTROL_METHODS, type ControlApi } from '../../../app/control/contract.ts';
import { toControlError } from '../../../app/control/errors.ts';
import { NotFoundError, UserError } from '../../../app/shared/errors.ts';
import {
  checkJsonValue,
  checkSender,
  createCallHandler,
  forwardEvents,
  EVENT_CHANNEL,
  isAppPage,
  LIMITS,
  validateCall,
  type SenderInfo,
} from '../../../main/ipc.ts';

const APP_URL = 'file:///opt/Lockbridge/resources/app.asar/renderer/dist/index.html';
const trusted = { webContentsId: 7, appUrl: APP_URL };
const appSender: SenderInfo = { webContentsId: 7, frameUrl: `${APP_URL}#/keys`, isMainFrame: true };

function fakeApi(impl: Partial<Record<keyof ControlApi, (...a: unknown[]) => Promise<unknown>>>): {
  api: ControlApi;
  calls: { method: string; args: unknown[] }[];
} {
  const calls: { method: string; args: unknown[] }[] = [];
  const api: Record<string, unknown> = {};
  for (const m of CONTROL_METHODS)
    api[m] = async (...args: unknown[]) => {
      calls.push({ method: m, args });
      const f = impl[m];
      return f ? f(...args) : undefined;
    };
  return { api: api as unknown as ControlApi, calls };
}

function handler(impl: Parameters<typeof fakeApi>[0] = {}, extra: { onResult?: (m: string) => void } = {}) {
  const { api, calls } = fakeApi(impl);
  const warnings: string[] = [];
  const handle = createCallHandler({
    api,
    trusted: () => trusted,
    toControlError: (e) => toControlError(e).error,
    warn: (msg, fields) => warnings.push(`${msg} ${JSON.stringify(fields.code ?? fields.method)}`),
    ...(extra.onResult ? { onResult: extra.onResult } : {}),
  });
  return { handle, calls, warnings };
}

test('isAppPage: the app page with any fragment or query, nothing else', () => {
  assert.equal(isAppPage(APP_URL, APP_URL), true);
  assert.equal(isAppPage(`${APP_URL}#/accounts`, APP_URL), true);
  assert.equal(isAppPage(`${APP_URL}?x=1`, APP_URL), true);
  assert.equal(
    isAppPage('file:///opt/Lockbridge/resources/app.asar/renderer/dist/other.html', APP_URL),
    false,
  );
  assert.equal(isAppPage('file:///etc/passwd', APP_URL), false);
  assert.equal(isAppPage('https://example.org/index.html', APP_URL), false);
  assert.equal(isAppPage('not a url', APP_URL), false);
  // a non-file app URL is never trusted (the app page is always loaded from disk)
  assert.equal(isAppPage('https://example.org/', 'https://example.org/'), false);
});

test('checkSender: only the app window, its top frame, the app page', () => {
  assert.doesNotThrow(() => checkSender(appSender, trusted));
  const refused = (s: SenderInfo, t: { webContentsId: number | null; appUrl: string } = trusted) =>
    assert.throws(
      () => checkSender(s, t),
      (e: Error & { code?: string }) => e.code === 'forbidden',
    );
  refused({ ...appSender, webContentsId: 8 }); // another window / webContents
  refused({ ...appSender, isMainFrame: false }); // an iframe, even with the app URL
  refused({ ...appSender, frameUrl: 'https://evil.example/' }); // navigated away
  refused({ ...appSender, frameUrl: null }); // frame already gone
  refused(appSender, { webContentsId: null, appUrl: APP_URL }); // no window yet
});

test('validateCall: known methods, array args, plain JSON only', () => {
  assert.deepEqual(validateCall({ method: 'status', args: [] }), { method: 'status', args: [] });
  assert.deepEqual(validateCall({ method: 'updateSettings', args: [{ sign: true, imapPort: 1143 }] }).args, [
    { sign: true, imapPort: 1143 },
  ]);
  const code = (payload: unknown) => {
    try {
      validateCall(payload);
      return 'accepted';
    } catch (err) {
      return (err as { code: string }).code;
    }
  };
  assert.equal(code({ method: 'nope', args: [] }), 'unknown-method');
  assert.equal(code({ method: 'toString', args: [] }), 'unknown-method');
  assert.equal(code({ method: '__proto__', args: [] }), 'unknown-method');
  assert.equal(code({ method: 'constructor', args: [] }), 'unknown-method');
  assert.equal(code({ method: 42, args: [] }), 'unknown-method');
  assert.equal(code({ method: 'status' }), 'invalid-call');
  assert.equal(code({ method: 'status', args: 'x' }), 'invalid-call');
  assert.equal(code({ method: 'status', args: { 0: 'a', length: 1 } }), 'invalid-call');
  assert.equal(code(null), 'invalid-call');
  assert.equal(code([]), 'invalid-call');
  assert.equal(code('status'), 'invalid-call');
  assert.equal(code({ method: 'status', args: [1, 2, 3, 4, 5] }), 'invalid-call');
  assert.equal(code({ method: 'unlock', args: [new Date()] }), 'invalid-argument');
  assert.equal(code({ method: 'unlock', args: [new Uint8Array(4)] }), 'invalid-argument');
  assert.equal(code({ method: 'unlock', args: [new Map()] }), 'invalid-argument');
  assert.equal(code({ method: 'unlock', args: [NaN] }), 'invalid-argument');
  assert.equal(code({ method: 'unlock', args: [Infinity] }), 'invalid-argument');
  assert.equal(code({ method: 'unlock', args: [undefined] }), 'invalid-argument');
  assert.equal(code({ method: 'unlock', args: [10n] }), 'invalid-argument');
  assert.equal(
    code({ method: 'updateSettings', args: [JSON.parse('{"__proto__": {"x": 1}}')] }),
    'invalid-argument',
  );
  // eslint-disable-next-line no-sparse-arrays
  assert.equal(code({ method: 'importMessages', args: ['a', 'b', [, 'x']] }), 'invalid-argument');
  let deep: unknown = 'x';
  for (let i = 0; i < LIMITS.maxDepth + 2; i++) deep = [deep];
  assert.equal(code({ method: 'importKey', args: [deep] }), 'invalid-argument');
  assert.equal(code({ method: 'importKey', args: ['a'.repeat(LIMITS.maxBytes + 1)] }), 'too-large');
  assert.equal(code({ method: 'importKey', args: ['a'.repeat(1024 * 1024)] }), 'accepted');
});

test('checkJsonValue accepts what the renderer really sends', () => {
  assert.doesNotThrow(() =>
    checkJsonValue([
      {
        email: 'a@example.org',
        imap: { host: 'imap.example.org', port: 993 },
        smtp: { host: 'smtp.example.org', port: 465 },
        security: 'tls',
        password: 'pw',
        caPem: null,
      },
      Object.create(null),
    ]),
  );
});

test('call handler: a valid call from the app page reaches the engine and answers its result', async () => {
  const results: string[] = [];
  const { handle, calls } = handler(
    { getSettings: async () => ({ startAtLogin: true }), removeAccount: async () => undefined },
    { onResult: (m) => results.push(m) },
  );
  assert.deepEqual(await handle(appSender, { method: 'getSettings', args: [] }), {
    ok: true,
    result: { startAtLogin: true },
  });
  // void methods answer null (undefined does not survive every IPC path the same way)
  assert.deepEqual(await handle(appSender, { method: 'removeAccount', args: ['a@example.org'] }), {
    ok: true,
    result: null,
  });
  assert.deepEqual(calls, [
    { method: 'getSettings', args: [] },
    { method: 'removeAccount', args: ['a@example.org'] },
  ]);
  assert.deepEqual(results, ['getSettings', 'removeAccount']);
});

test('call handler: foreign senders and bad calls are refused before the engine sees them', async () => {
  const { handle, calls, warnings } = handler();
  const foreign = await handle(
    { ...appSender, frameUrl: 'https://evil.example/' },
    { method: 'credentials', args: [] },
  );
  assert.deepEqual(foreign, {
    ok: false,
    error: { code: 'forbidden', message: 'calls are accepted only from the Lockbridge page' },
  });
  const otherWindow = await handle({ ...appSender, webContentsId: 99 }, { method: 'credentials', args: [] });
  assert.equal(otherWindow.ok, false);
  const unknown = await handle(appSender, { method: 'eval', args: [] });
  assert.equal(unknown.ok ? 'ok' : unknown.error.code, 'unknown-method');
  const nonArray = await handle(appSender, { method: 'status', args: 'x' });
  assert.equal(nonArray.ok ? 'ok' : nonArray.error.code, 'invalid-call');
  assert.equal(calls.length, 0, 'the engine was never called');
  assert.equal(warnings.length, 4);
});

test('call handler: engine errors map through toControlError; internals are hidden', async () => {
  const { handle, warnings } = handler({
    unlock: async () => {
      throw new UserError('wrong-passphrase', 'the passphrase is wrong');
    },
    exportKey: async () => {
      throw new NotFoundError('key of b@example.org');
    },
    listKeys: async () => {
      throw new Error('SQLITE_CORRUPT at /home/u/.local/share/lockbridge/store.db');
    },
  });
  assert.deepEqual(await handle(appSender, { method: 'unlock', args: ['x'] }), {
    ok: false,
    error: { code: 'wrong-passphrase', message: 'the passphrase is wrong' },
  });
  assert.deepEqual(await handle(appSender, { method: 'exportKey', args: ['b@example.org', false] }), {
    ok: false,
    error: { code: 'not-found', message: 'key of b@example.org not found' },
  });
  const internal = await handle(appSender, { method: 'listKeys', args: [] });
  assert.deepEqual(internal, {
    ok: false,
    error: { code: 'internal', message: 'internal error (see the log)' },
  });
  assert.ok(!JSON.stringify(internal).includes('store.db'));
  assert.ok(warnings.some((w) => w.startsWith('control call failed')));
});

test('forwardEvents sends every event on the event channel and survives a destroyed window', () => {
  const listeners = new Set<(e: unknown) => void>();
  const sent: [string, unknown][] = [];
  let broken = false;
  const off = forwardEvents(
    (l) => {
      listeners.add(l as (e: unknown) => void);
      return () => listeners.delete(l as (e: unknown) => void);
    },
    (channel, event) => {
      if (broken) throw new Error('Object has been destroyed');
      sent.push([channel, event]);
    },
  );
  const ev = { type: 'send-failed', email: 'a@example.org', id: '1', reason: 'x' };
  for (const l of listeners) l(ev);
  broken = true;
  for (const l of listeners) assert.doesNotThrow(() => l(ev));
  assert.deepEqual(sent, [[EVENT_CHANNEL, ev]]);
  off();
  assert.equal(listeners.size, 0);
});
