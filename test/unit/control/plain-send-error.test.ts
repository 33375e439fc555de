// The outbox's plain-words reasons for the errors nodemailer and providers give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plainSendError } from '../../../app/control/bridge.ts';

test('send errors in plain words; unknown ones left to the raw text', () => {
  assert.match(
    plainSendError('ESOCKET: connect ECONNREFUSED 127.0.0.1:56731') ?? '',
    /refused the connection/,
  );
  assert.match(plainSendError('Greeting never received (ETIMEDOUT)') ?? '', /did not answer in time/);
  assert.match(plainSendError('getaddrinfo ENOTFOUND smtp.example.org') ?? '', /could not be found/);
  assert.match(plainSendError('EAUTH: 535 5.7.8 authentication failed') ?? '', /rejected the login/);
  assert.match(plainSendError('550 5.1.1 mailbox unavailable') ?? '', /refused the message/);
  assert.match(plainSendError('451 4.3.0 try again later') ?? '', /try again later/);
  assert.equal(plainSendError('something else entirely'), null);
  assert.equal(plainSendError(null), null);
});
