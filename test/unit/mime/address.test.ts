// RFC 5322 address lists, including groups, routes, comments and broken input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressesOf, parseAddressList } from '../../../app/mime/address.ts';
import { addressListToImap } from '../../../app/mime/envelope.ts';

test('display names, quoted strings, comments', () => {
  assert.deepEqual(parseAddressList('"Doe, John" <john@example.org>, ann@example.org (Ann S)'), [
    { kind: 'mailbox', name: 'Doe, John', route: null, mailbox: 'john', host: 'example.org' },
    { kind: 'mailbox', name: 'Ann S', route: null, mailbox: 'ann', host: 'example.org' },
  ]);
  assert.deepEqual(parseAddressList('Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>'), [
    { kind: 'mailbox', name: 'Pete', route: null, mailbox: 'pete', host: 'silly.test' },
  ]);
});

test('groups, including empty ones', () => {
  assert.equal(
    addressListToImap('undisclosed-recipients:;'),
    '((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL))',
  );
  assert.equal(
    addressListToImap('Friends: a@x.example, "B" <b@y.example>;, c@z.example'),
    '((NIL NIL "Friends" NIL)(NIL NIL "a" "x.example")("B" NIL "b" "y.example")(NIL NIL NIL NIL)(NIL NIL "c" "z.example"))',
  );
});

test('obsolete routes go into adl', () => {
  assert.equal(
    addressListToImap('<@relay1.example,@relay2.example:joe@example.com>'),
    '((NIL "@relay1.example,@relay2.example" "joe" "example.com"))',
  );
});

test('missing parts use Dovecot placeholders in ENVELOPE; empty header is NIL', () => {
  assert.equal(addressListToImap('someone'), '((NIL NIL "someone" "MISSING_DOMAIN"))');
  assert.equal(addressListToImap('<>'), '((NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN"))');
  assert.equal(addressListToImap(''), 'NIL');
  assert.equal(addressListToImap(null), 'NIL');
});

test('encoded words stay raw and 8-bit names become literals', () => {
  assert.equal(
    addressListToImap('=?utf-8?q?J=C3=B6rg?= <j@x.de>'),
    '(("=?utf-8?q?J=C3=B6rg?=" NIL "j" "x.de"))',
  );
  assert.equal(addressListToImap('Jörg <j@x.de>'), '(({5}\r\nJörg NIL "j" "x.de"))');
});

test('garbage never throws', () => {
  for (const s of [
    '<<<',
    '@@@',
    ':;:;',
    '"unterminated',
    '(unterminated',
    'a@',
    '@b',
    ',,,',
    '<a@b',
    'x: y: z;',
  ]) {
    assert.doesNotThrow(() => addressListToImap(s), s);
  }
});

test('a field with 60,000 addresses (anyone can mail one) is parsed up to its first 1,000 (issue 14)', () => {
  const many = Array.from({ length: 60_000 }, (_, i) => `u${i} <u${i}@example.test>`).join(',\r\n ');
  const items = parseAddressList(many);
  assert.equal(items.length, 1000);
  assert.deepEqual(items[999], {
    kind: 'mailbox',
    name: 'u999',
    route: null,
    mailbox: 'u999',
    host: 'example.test',
  });
  assert.equal(parseAddressList('a@b' + ','.repeat(100_000)).length, 1000);
  const group = parseAddressList(`g: ${many};, last@example.test`);
  assert.equal(group.length, 1);
  assert.equal((group[0] as { members: unknown[] }).members.length, 1000);
});

test('addressesOf: the addresses mail goes to, groups flattened, comments and encoded words no address', () => {
  assert.deepEqual(addressesOf('Team: A <a@x.org>, (c) b@y.org;, "Doe, C" <c@z.org>'), [
    'a@x.org',
    'b@y.org',
    'c@z.org',
  ]);
  assert.deepEqual(addressesOf('a@x.org (x (y, z) <e@evil.org>), =?utf-8?q?D=2C_E?= <d@x.org>'), [
    'a@x.org',
    'd@x.org',
  ]);
  assert.deepEqual(addressesOf('"quoted local"@x.org, "a.b"@x.org'), ['"quoted local"@x.org', 'a.b@x.org']);
  // ';' outside a group separates, as mail clients write it
  assert.deepEqual(addressesOf('a@x.org; b@y.org'), ['a@x.org', 'b@y.org']);
  assert.deepEqual(addressesOf('Undisclosed recipients:;'), []);
});

test('addressesOf: an unquoted display name that looks like an address is a name; the <address> is where mail goes', () => {
  // Thunderbird, DMARC checks and nodemailer read <real@x.org>; deciding with alice@trusted.org
  // would judge a sender by an address its recipient's mail client does not show as the sender
  assert.deepEqual(addressesOf('alice@trusted.org <attacker@evil.org>'), ['attacker@evil.org']);
  assert.deepEqual(addressesOf('a@x.org <real@x.org>, b@y.org'), ['real@x.org', 'b@y.org']);
  assert.deepEqual(addressesOf('Team: a@x.org (c) <real@x.org>;'), ['real@x.org']);
  // IMAP ENVELOPE keeps Dovecot's reading (the addr-spec; the rest is ignored)
  assert.deepEqual(parseAddressList('a@x.org <real@x.org>'), [
    { kind: 'mailbox', name: null, route: null, mailbox: 'a', host: 'x.org' },
  ]);
});
