// The control token arrives in the URL fragment and must be taken out before hash routing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashWithoutToken, parseHash } from '../../../renderer/src/token.ts';
import { hashFor, routeFromHash, ROUTES } from '../../../renderer/src/routes.ts';

test('the ready line form #token=T', () => {
  const p = parseHash('#token=abc-DEF_123');
  assert.deepEqual(p, { token: 'abc-DEF_123', route: '' });
  assert.equal(hashWithoutToken(p), '');
});

test('token together with a route, in either order', () => {
  assert.deepEqual(parseHash('#token=T1&route=/keys'), { token: 'T1', route: '/keys' });
  assert.deepEqual(parseHash('#/keys?token=T2'), { token: 'T2', route: '/keys' });
  assert.deepEqual(parseHash('#/settings&token=T3'), { token: 'T3', route: '/settings' });
  assert.equal(hashWithoutToken(parseHash('#/keys?token=T2')), '#/keys');
});

test('plain routes and empty hashes carry no token', () => {
  assert.deepEqual(parseHash('#/accounts'), { token: null, route: '/accounts' });
  assert.deepEqual(parseHash(''), { token: null, route: '' });
  assert.deepEqual(parseHash('#'), { token: null, route: '' });
  assert.deepEqual(parseHash('#token='), { token: null, route: '' });
  assert.deepEqual(parseHash('#token=x&route=evil'), { token: 'x', route: '' }, 'route must be a path');
});

test('routes: known names round-trip, unknown ones fall back to accounts', () => {
  for (const r of ROUTES) assert.equal(routeFromHash(hashFor(r.name)), r.name);
  assert.equal(routeFromHash('#/nope'), 'accounts');
  assert.equal(routeFromHash(''), 'accounts');
  assert.equal(routeFromHash('#token=abc'), 'accounts');
  assert.equal(routeFromHash('#/keys?x=1'), 'keys');
});
