import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError, UsageError, errorMessage } from '../../../app/shared/errors.ts';

test('UsageError is a UserError with the usage code', () => {
  const e = new UsageError('missing --email');
  assert.ok(e instanceof UserError);
  assert.equal(e.code, 'usage');
  assert.equal(errorMessage(e), 'missing --email');
  assert.equal(errorMessage('plain'), 'plain');
});
