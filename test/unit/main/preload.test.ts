// The preload as Electron's sandbox runs it: the stripped script (exactly what build:main writes to
// dist/main/preload.cjs) evaluated in a fresh vm context whose only `require` is a fake 'electron'.
// It must expose every ControlApi method plus subscribe, speak the two channels, and reject with
// the { code, message } of a failed call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { runInNewContext } from 'node:vm';
import { CONTROL_METHODS } from '../../../app/control/contract.ts';
import { CALL_CHANNEL, EVENT_CHANNEL } from '../../../main/ipc.ts';

const SOURCE = readFileSync(new URL('../../../main/preload.ts', import.meta.url), 'utf8');

interface Loaded {
  exposed: Map<string, Record<string, (...a: unknown[]) => unknown>>;
  invoked: { channel: string; payload: unknown }[];
  emit(payload: unknown): void;
  required: string[];
}

function load(
  reply: (payload: { method: string; args: unknown[] }) => unknown,
  processType = 'renderer',
): Loaded {
  const exposed = new Map<string, Record<string, (...a: unknown[]) => unknown>>();
  const invoked: { channel: string; payload: unknown }[] = [];
  const handlers = new Map<string, (event: unknown, payload: unknown) => void>();
  const required: string[] = [];
  const electron = {
    contextBridge: {
      exposeInMainWorld: (key: string, api: Record<string, (...a: unknown[]) => unknown>) =>
        exposed.set(key, api),
    },
    ipcRenderer: {
      invoke: async (channel: string, payload: { method: string; args: unknown[] }) => {
        invoked.push({ channel, payload });
        return reply(payload);
      },
      on: (channel: string, h: (event: unknown, payload: unknown) => void) => handlers.set(channel, h),
    },
  };
  const sandboxRequire = (name: string) => {
    required.push(name);
    if (name !== 'electron') throw new Error(`module not found: ${name}`);
    return electron;
  };
  // Electron wraps a sandboxed preload in a function of (require, process, …): a script, not a module.
  const script = `(function (require, process) {\n${stripTypeScriptTypes(SOURCE, { mode: 'strip' })}\n})`;
  const fn = runInNewContext(script, {}, { filename: 'preload.cjs' }) as (r: unknown, p: unknown) => void;
  fn(sandboxRequire, { type: processType });
  return {
    exposed,
    invoked,
    required,
    emit: (payload) => handlers.get(EVENT_CHANNEL)?.({ sender: null }, payload),
  };
}

test('the preload is a self-contained script: strips to plain JS with only require("electron")', () => {
  const js = stripTypeScriptTypes(SOURCE, { mode: 'strip' });
  assert.doesNotMatch(js, /^\s*(import|export)\s/m, 'no ES module syntax survives');
  const requires = [...js.matchAll(/require\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(requires)], ['electron']);
});

test('window.bridge has exactly the ControlApi methods plus subscribe', () => {
  const { exposed, required } = load(() => ({ ok: true, result: null }));
  assert.deepEqual(required, ['electron']);
  assert.deepEqual([...exposed.keys()], ['bridge']);
  const bridge = exposed.get('bridge')!;
  assert.deepEqual(Object.keys(bridge).sort(), [...CONTROL_METHODS, 'subscribe'].sort());
  for (const m of CONTROL_METHODS) assert.equal(typeof bridge[m], 'function', m);
  assert.ok(Object.isFrozen(bridge));
});

test('calls go over bridge:call as { method, args } and resolve with the result', async () => {
  const { exposed, invoked } = load((p) => ({ ok: true, result: { echo: p.method } }));
  const bridge = exposed.get('bridge')!;
  assert.deepEqual(await bridge.status!(), { echo: 'status' });
  assert.deepEqual(await bridge.exportKey!('a@example.org', true), { echo: 'exportKey' });
  // (objects from the vm's realm: compare as JSON)
  assert.deepEqual(JSON.parse(JSON.stringify(invoked)), [
    { channel: CALL_CHANNEL, payload: { method: 'status', args: [] } },
    { channel: CALL_CHANNEL, payload: { method: 'exportKey', args: ['a@example.org', true] } },
  ]);
});

test('a failed call rejects with { name, code, message }', async () => {
  const { exposed } = load(() => ({ ok: false, error: { code: 'locked', message: 'Lockbridge is locked' } }));
  await assert.rejects(exposed.get('bridge')!.listAccounts!() as Promise<unknown>, (err: unknown) => {
    assert.deepEqual(
      { ...(err as object) },
      {
        name: 'ControlCallError',
        code: 'locked',
        message: 'Lockbridge is locked',
      },
    );
    return true;
  });
});

test('subscribe delivers bridge:event payloads until unsubscribed; a throwing listener harms no other', () => {
  const { exposed, emit } = load(() => ({ ok: true, result: null }));
  const bridge = exposed.get('bridge')!;
  const got: unknown[] = [];
  bridge.subscribe!(() => {
    throw new Error('bad listener');
  });
  const off = bridge.subscribe!((e: unknown) => got.push(e)) as () => void;
  const ev = { type: 'log', line: { time: 't', level: 'info', msg: 'm' } };
  emit(ev);
  off();
  emit({ type: 'log', line: { time: 't2', level: 'info', msg: 'm2' } });
  assert.deepEqual(got, [ev]);
  assert.throws(
    () => bridge.subscribe!('nope'),
    (e: Error) => e.name === 'TypeError',
  );
});

test('outside a renderer process the script does nothing', () => {
  const { exposed, required } = load(() => null, 'browser');
  assert.equal(exposed.size, 0);
  assert.deepEqual(required, []);
});
