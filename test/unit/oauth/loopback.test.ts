// The RFC 8252 loopback redirect listener (issue 18): 127.0.0.1, a port of its own, and only our
// path with our state ends the wait; forged requests are refused and it keeps waiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REDIRECT_PATH, startLoopbackRedirect } from '../../../app/oauth/loopback.ts';

test('forged state and other paths are refused; the real redirect is taken once', async () => {
  const lb = await startLoopbackRedirect('the-state');
  try {
    const u = new URL(lb.redirectUri);
    assert.equal(u.hostname, '127.0.0.1');
    assert.notEqual(u.port, '');
    assert.equal(u.pathname, REDIRECT_PATH);
    let settled = false;
    void lb.result.then(() => (settled = true));

    let r = await fetch(`${lb.redirectUri}?code=c1&state=forged`);
    assert.equal(r.status, 400);
    assert.match(await r.text(), /state/);
    r = await fetch(`http://127.0.0.1:${u.port}/elsewhere?code=c1&state=the-state`);
    assert.equal(r.status, 404);
    r = await fetch(lb.redirectUri, { method: 'POST', body: 'code=c1&state=the-state' });
    assert.equal(r.status, 404);
    assert.equal(settled, false, 'nothing refused ended the wait');
    // a pasted redirect to another port is refused too
    const other = new URL(lb.redirectUri);
    other.port = String(Number(u.port) === 65535 ? 1 : Number(u.port) + 1);
    other.search = '?code=c1&state=the-state';
    assert.throws(() => lb.submit(other.toString()), /not to 127\.0\.0\.1:/);

    r = await fetch(`${lb.redirectUri}?code=the-code&state=the-state`);
    assert.equal(r.status, 200);
    const got = await lb.result;
    assert.equal(got.code, 'the-code');
    r = await fetch(`${lb.redirectUri}?code=again&state=the-state`);
    assert.equal(r.status, 409);
  } finally {
    await lb.close();
  }
});

test('a redirect URL pasted from another machine ends the wait the same way', async () => {
  const lb = await startLoopbackRedirect('s2');
  try {
    assert.throws(() => lb.submit(`${lb.redirectUri}?code=x&state=nope`), /state/);
    lb.submit(`${lb.redirectUri}?code=pasted&state=s2`);
    assert.equal((await lb.result).code, 'pasted');
  } finally {
    await lb.close();
  }
});

test('the provider saying no ends the wait with its answer; closing rejects a pending wait', async () => {
  const lb = await startLoopbackRedirect('s3');
  const r = await fetch(`${lb.redirectUri}?error=access_denied&state=s3`);
  assert.equal(r.status, 200);
  await assert.rejects(lb.result, /refused the sign-in: access_denied/);
  await lb.close();
  const lb2 = await startLoopbackRedirect('s4');
  await lb2.close();
  await assert.rejects(lb2.result, /cancelled/);
});
