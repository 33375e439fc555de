import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyGossip, readGossip } from '../../../app/keys/autocrypt/gossip.ts';
import { formatAutocryptValue } from '../../../app/keys/autocrypt/header.ts';
import { effectiveDate, readIncomingAutocrypt, updatePeer } from '../../../app/keys/autocrypt/peer-state.ts';
import {
  combineRecommendations,
  type PeerView,
  recommendFor,
} from '../../../app/keys/autocrypt/recommend.ts';
import type { AutocryptPeerRecord } from '../../../app/keys/types.ts';

const DAY = 86_400_000;
const K1 = new Uint8Array([1, 2, 3]);
const K2 = new Uint8Array([4, 5, 6]);
const hdr = (addr: string, kd: Uint8Array, pe?: 'mutual') =>
  formatAutocryptValue({ addr, keydata: kd, ...(pe ? { preferEncrypt: pe } : {}) });

const T0 = Date.UTC(2026, 0, 10);
const base = { contentType: 'text/plain', receivedAt: T0 + 10 * DAY };

test('effective date: Date header, or receive time when missing or in the future', () => {
  assert.equal(effectiveDate(T0, T0 + DAY), T0);
  assert.equal(effectiveDate(null, T0 + DAY), T0 + DAY);
  assert.equal(effectiveDate(T0 + 2 * DAY, T0 + DAY), T0 + DAY);
});

test('skip rules: multipart/report, several From addresses, spam', () => {
  const h = [hdr('a@x.example', K1)];
  assert.deepEqual(
    readIncomingAutocrypt({
      ...base,
      contentType: 'multipart/report',
      from: ['a@x.example'],
      date: T0,
      autocryptHeaders: h,
    }),
    { skip: true, reason: 'multipart/report' },
  );
  assert.equal(
    readIncomingAutocrypt({ ...base, from: ['a@x.example', 'b@x.example'], date: T0, autocryptHeaders: h })
      .skip,
    true,
  );
  assert.equal(
    readIncomingAutocrypt({ ...base, from: ['a@x.example'], date: T0, autocryptHeaders: h, isSpam: true })
      .skip,
    true,
  );
});

test('header validity: addr must match From; more than one valid header discards all', () => {
  const r1 = readIncomingAutocrypt({
    ...base,
    from: ['Alice <A@X.example>'],
    date: T0,
    autocryptHeaders: [hdr('b@x.example', K1)],
  });
  assert.ok(!r1.skip && r1.header === null && r1.problems.includes('addr does not match From'));
  const r2 = readIncomingAutocrypt({
    ...base,
    from: ['a@x.example'],
    date: T0,
    autocryptHeaders: [hdr('a@x.example', K1), hdr('a@x.example', K2)],
  });
  assert.ok(!r2.skip && r2.header === null);
  const r3 = readIncomingAutocrypt({
    ...base,
    from: ['a@x.example'],
    date: T0,
    autocryptHeaders: [hdr('a@x.example', K1), 'garbage'],
  });
  assert.ok(!r3.skip && r3.header !== null);
});

test('update: new peer, newer header replaces key, out-of-order older message is ignored', () => {
  const u1 = updatePeer(null, 'a@x.example', T0, { keydata: K1, preferEncrypt: 'mutual' });
  assert.ok(u1.keyUpdated && u1.peer);
  assert.equal(u1.peer.autocryptTimestamp, T0);
  assert.equal(u1.peer.lastSeen, T0);
  assert.equal(u1.peer.preferEncrypt, 'mutual');
  const u2 = updatePeer(u1.peer, 'a@x.example', T0 + DAY, { keydata: K2, preferEncrypt: 'nopreference' });
  assert.deepEqual([...u2.peer!.publicKey!], [...K2]);
  assert.equal(u2.peer!.preferEncrypt, 'nopreference');
  // a message dated before autocrypt_timestamp arrives late: nothing changes
  const u3 = updatePeer(u2.peer, 'a@x.example', T0 + DAY / 2, { keydata: K1, preferEncrypt: 'mutual' });
  assert.equal(u3.changed, false);
  assert.deepEqual([...u3.peer!.publicKey!], [...K2]);
});

test('update: a message without header only moves last_seen; header-less mail from strangers creates nothing', () => {
  const p = updatePeer(null, 'a@x.example', T0, { keydata: K1, preferEncrypt: 'mutual' }).peer!;
  const u = updatePeer(p, 'a@x.example', T0 + 3 * DAY, null);
  assert.equal(u.changed, true);
  assert.equal(u.keyUpdated, false);
  assert.equal(u.peer!.lastSeen, T0 + 3 * DAY);
  assert.equal(u.peer!.autocryptTimestamp, T0);
  assert.deepEqual([...u.peer!.publicKey!], [...K1]);
  assert.equal(updatePeer(null, 'b@x.example', T0, null).peer, null);
});

test('gossip: only for To/Cc/Reply-To addresses, and not older than the stored gossip', () => {
  const r = readGossip(
    [hdr('b@x.example', K1), hdr('evil@x.example', K2), 'junk'],
    ['Bob <B@x.example>', 'c@x.example'],
  );
  assert.equal(r.accepted.length, 1);
  assert.equal(r.accepted[0]!.addr, 'b@x.example');
  assert.equal(r.problems.length, 2);
  const g1 = applyGossip(null, { addr: 'b@x.example', keydata: K1 }, T0);
  assert.ok(g1.changed && g1.peer.gossipTimestamp === T0 && g1.peer.publicKey === null);
  const g2 = applyGossip(g1.peer, { addr: 'b@x.example', keydata: K2 }, T0 - DAY);
  assert.equal(g2.changed, false);
  const g3 = applyGossip(g1.peer, { addr: 'b@x.example', keydata: K2 }, T0 + DAY);
  assert.deepEqual([...g3.peer.gossipKey!], [...K2]);
});

function peer(p: Partial<AutocryptPeerRecord>): AutocryptPeerRecord {
  return {
    email: 'p@x.example',
    lastSeen: T0,
    autocryptTimestamp: T0,
    publicKey: K1,
    preferEncrypt: 'mutual',
    gossipTimestamp: null,
    gossipKey: null,
    ...p,
  };
}
const view = (p: AutocryptPeerRecord | null, pub = true, gos = true): PeerView => ({
  peer: p,
  publicKeyUsable: pub,
  gossipKeyUsable: gos,
});

test('recommendation table', () => {
  const cases: [string, PeerView, { own: 'mutual' | 'nopreference'; reply?: boolean }, string, string][] = [
    ['no peer', view(null), { own: 'mutual' }, 'disable', 'disable'],
    ['unusable (revoked/expired) key only', view(peer({}), false), { own: 'mutual' }, 'disable', 'disable'],
    [
      'gossip key only',
      view(peer({ publicKey: null, autocryptTimestamp: null, gossipKey: K2, gossipTimestamp: T0 })),
      { own: 'mutual' },
      'discourage',
      'discourage',
    ],
    [
      'gossip only, reply to encrypted',
      view(peer({ publicKey: null, autocryptTimestamp: null, gossipKey: K2, gossipTimestamp: T0 })),
      { own: 'mutual', reply: true },
      'discourage',
      'encrypt',
    ],
    ['fresh, both mutual', view(peer({})), { own: 'mutual' }, 'available', 'encrypt'],
    ['fresh, own nopreference', view(peer({})), { own: 'nopreference' }, 'available', 'available'],
    [
      'fresh, peer nopreference',
      view(peer({ preferEncrypt: 'nopreference' })),
      { own: 'mutual' },
      'available',
      'available',
    ],
    [
      'exactly 35 days stale',
      view(peer({ lastSeen: T0 + 35 * DAY })),
      { own: 'mutual' },
      'available',
      'encrypt',
    ],
    ['36 days stale', view(peer({ lastSeen: T0 + 36 * DAY })), { own: 'mutual' }, 'discourage', 'discourage'],
    [
      '36 days stale, reply to encrypted',
      view(peer({ lastSeen: T0 + 36 * DAY })),
      { own: 'mutual', reply: true },
      'discourage',
      'encrypt',
    ],
  ];
  for (const [name, v, ctx, pre, fin] of cases) {
    const r = recommendFor(v, { ownPreferEncrypt: ctx.own, replyToEncrypted: ctx.reply ?? false });
    assert.equal(r.preliminary, pre, `${name}: preliminary`);
    assert.equal(r.final, fin, `${name}: final`);
  }
});

test('multi-recipient combination', () => {
  assert.equal(combineRecommendations(['encrypt', 'encrypt']), 'encrypt');
  assert.equal(combineRecommendations(['encrypt', 'disable', 'encrypt']), 'disable');
  assert.equal(combineRecommendations(['encrypt', 'discourage']), 'discourage');
  assert.equal(combineRecommendations(['encrypt', 'available']), 'available');
  assert.equal(combineRecommendations(['available', 'discourage', 'encrypt']), 'discourage');
  assert.equal(combineRecommendations([]), 'disable');
});
