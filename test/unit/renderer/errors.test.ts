// Control errors reach the UI's messages from both transports: the browser adapter's
// ControlCallError and the Electron preload's plain { name, code, message } object.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlCallError, errorCode, errorMessage } from '../../../renderer/src/bridge-types.ts';

test('browser adapter errors: code and message', () => {
  const e = new ControlCallError('wrong-passphrase', 'wrong passphrase: the store could not be unlocked');
  assert.equal(errorCode(e), 'wrong-passphrase');
  assert.equal(errorMessage(e), 'wrong passphrase: the store could not be unlocked');
});

test('Electron preload errors (plain objects): code and message', () => {
  const e = { name: 'ControlCallError', code: 'locked', message: 'Lockbridge is locked: unlock it first' };
  assert.equal(errorCode(e), 'locked');
  assert.equal(errorMessage(e), 'Lockbridge is locked: unlock it first');
});

test('anything else: a message, no code', () => {
  assert.equal(errorCode(new Error('boom')), null);
  assert.equal(errorMessage(new Error('boom')), 'boom');
  assert.equal(errorCode({ name: 'Other', code: 'x', message: 'y' }), null);
  assert.equal(errorMessage({ code: 1 }), 'Something went wrong.');
  assert.equal(errorMessage('plain'), 'plain');
});
