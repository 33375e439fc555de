/**
 * Issue 19, S/MIME certificates found in an LDAP directory the user configures: the product's
 * runtime (initHome, createBridge, serve) with the setting `smimeDirectory` and the bind password
 * given through the control API, a real OpenLDAP slapd (its own config in a temp dir, reads only
 * after a bind) holding the certificates of hana and ivan (made by the openssl test CA), and the
 * real provider (Postfix + Dovecot). Alice has an S/MIME certificate of her own (PKCS#12).
 *
 * - mail to hana, whose certificate is only in the directory, arrives at the provider S/MIME
 *   enveloped; `openssl cms` decrypts it with hana's key and verifies alice's signature; the
 *   certificate is kept with source 'directory'; status shows the lookup;
 * - addresses that would widen an unescaped filter (`hana*@…`, `*`, `…)(mail=*`) match no entry
 *   (slapd itself matches hana's entry with the unescaped `(mail=hana*)`), a plain one does;
 * - an anonymous directory asked for 14 addresses in one lookup answers for each;
 * - an address the directory has no entry for is searched once over two sends (slapd's own log
 *   counts the searches), again after the setting changed, and again after a refused bind;
 * - a directory served over ldaps:// with a certificate from a private CA (test/helpers/https-ca.ts)
 *   fails with a status line naming the untrusted certificate until that CA is set as the
 *   directory's `caPem`, then answers;
 * - a directory that is down, or accepts and never answers, does not stop the mail: it goes out by
 *   the usual policy, a warning is logged and status says why;
 * - the bind password stands in no file of the data directory, no log line, no report, no setting.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Bridge } from '../../../app/index.ts';
import type { Logger } from '../../../app/shared/logger.ts';
import { providerInbox, freePort, startProvider, type Provider } from '../../helpers/provider.ts';
import { ldifEntry, startSlapd, type Slapd } from '../../helpers/ldap.ts';
import { useDomainResolver, type DnsServer } from '../../helpers/dns-server.ts';
import { OpensslCa, type OsslUser } from '../../helpers/crypto/openssl.ts';
import { run } from '../../helpers/crypto/gpg.ts';
import { assertNoSecrets } from '../../helpers/no-secrets.ts';
import { waitFor } from '../../helpers/bridge-world.ts';
import { createTestCa } from '../../helpers/https-ca.ts';
import { addStoreAccount, bridgeSmtp, initBridge } from '../../helpers/runtime-bridge.ts';

const D = 'example.test';
const SUFFIX = 'dc=example,dc=test';
const PEOPLE = `ou=people,${SUFFIX}`;
const ALICE = `alice@${D}`;
const HANA = `hana@${D}`; // certificate only in the directory
const IVAN = `ivan@${D}`; // in the directory too
const DAN = `dan@${D}`; // nowhere
const LOCAL = 'ldap-local-pw';

interface Line {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps every line (fields of its children included). */
function capture(lines: Line[], bindings: Record<string, unknown> = {}): Logger {
  const at =
    (level: string) =>
    (obj: object, msg = ''): void =>
      void lines.push({ level, msg, fields: { ...bindings, ...obj } });
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (b) => capture(lines, { ...bindings, ...b }),
  };
}

/** The provider's copy for `user` with this Message-ID (waits for the relay; bounded so old code fails). */
const arrived = (p: Provider, user: string, messageId: string): Promise<Buffer> =>
  waitFor(
    `${messageId} at ${user}`,
    async () => (await providerInbox(p, user)).find((b) => b.toString('latin1').includes(messageId)),
    60_000,
  );

describe('S/MIME certificates from an LDAP directory, through the product’s SMTP', () => {
  const home = mkdtempSync(join(tmpdir(), 'lb-smime-ldap-'));
  const lines: Line[] = [];
  let p: Provider;
  let slapd: Slapd;
  let dns: DnsServer;
  let ca: OpensslCa;
  let alice: OsslUser, hana: OsslUser, ivan: OsslUser;
  let bridge: Bridge;
  let smtpPort = 0;
  let caPem = '';
  let seq = 0;
  let ldif = '';

  const send = async (to: string): Promise<string> => {
    const t = bridgeSmtp(smtpPort, caPem, ALICE, LOCAL);
    const messageId = `<ldap-${++seq}@${D}>`;
    try {
      const info = await t.sendMail({
        from: ALICE,
        to,
        subject: `for ${to}`,
        text: 'Rota: Tuesday.\n',
        messageId,
      });
      assert.match(info.response, /^250 /);
    } finally {
      t.close();
    }
    return messageId;
  };
  const directory = (url: string, timeoutMs = 5000) =>
    bridge.api.updateSettings({
      smimeDirectory: { url, baseDn: PEOPLE, bindDn: slapd.rootDn, timeoutMs },
    });

  before(async () => {
    p = await startProvider({ domain: D });
    for (const u of [ALICE, HANA, DAN]) await p.addUser(u, `pw-${u}`);
    // the recipient-domain check at RCPT TO asks this resolver (example.test exists there)
    dns = await useDomainResolver(D);
    ca = new OpensslCa();
    alice = ca.user(ALICE, 'rsa');
    hana = ca.user(HANA, 'rsa');
    ivan = ca.user(IVAN, 'ec');
    const person = (name: string, u: OsslUser) =>
      ldifEntry(`cn=${name},${PEOPLE}`, [
        ['objectClass', 'inetOrgPerson'],
        ['cn', name],
        ['sn', name],
        ['mail', u.email],
        ['userCertificate;binary', u.certDer],
      ]);
    ldif =
      ldifEntry(SUFFIX, [
        ['objectClass', 'dcObject'],
        ['objectClass', 'organization'],
        ['o', 'Example'],
        ['dc', 'example'],
      ]) +
      ldifEntry(PEOPLE, [
        ['objectClass', 'organizationalUnit'],
        ['ou', 'people'],
      ]) +
      person('Hana', hana) +
      person('Ivan', ivan);
    slapd = await startSlapd({ suffix: SUFFIX, bindRequired: true, ldif });

    ({ bridge, caPem } = await initBridge({
      home,
      passphrase: 'ldap pass',
      localPassword: LOCAL,
      logger: capture(lines),
      discovery: { sources: { wkd: false, vks: false, hkp: false } },
    }));
    addStoreAccount(bridge, ALICE, p.account(ALICE), p.smtpPort);
    await bridge.api.importCertificates(ca.pkcs12(alice, 'p12').toString('base64'), { passphrase: 'p12' });
    await directory(slapd.url);
    await bridge.api.setDirectoryPassword(slapd.rootPw);
    smtpPort = (await bridge.serve({ imapPort: 0, smtpPort: 0, control: false })).smtp;
  });

  after(async () => {
    await bridge?.close();
    await dns?.close();
    await slapd?.close();
    ca?.dispose();
    await p?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('mail to an address whose certificate is only in the directory goes out S/MIME-encrypted to it', async () => {
    assert.equal(
      (await bridge.api.listCertificates()).certificates.some((c) => c.emails.includes(HANA)),
      false,
      'hana’s certificate is not held before',
    );
    const id = await send(HANA);
    const msg = await arrived(p, HANA, id);
    assert.match(msg.toString(), /Content-Type: application\/pkcs7-mime; smime-type=enveloped-data/);
    const inner = run('openssl', ['cms', '-decrypt', '-recip', hana.certPath, '-inkey', hana.keyPath], msg);
    assert.equal(inner.status, 0, inner.stderr);
    const verified = run('openssl', ['cms', '-verify', '-CAfile', ca.path('ca.pem')], inner.stdout);
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stdout.toString(), /Rota: Tuesday\./);

    const held = (await bridge.api.listCertificates()).certificates.find((c) => c.emails.includes(HANA));
    assert.equal(held?.source, 'directory');
    const dir = (await bridge.api.status()).certificateDirectory;
    assert.equal(dir?.url, slapd.url);
    assert.equal(dir?.passwordSet, true);
    assert.equal(dir?.lastLookup?.ok, true);
    assert.equal(dir?.lastLookup?.detail, '1 of 1 certificate found');
  });

  it('a filter-injection address matches no other entry; a plain address is found', async () => {
    // what an unescaped value would do: slapd matches hana's entry for (mail=hana*)
    assert.match(slapd.search('(mail=hana*)', 'mail'), new RegExp(`mail: ${HANA}`));
    const looked = () => lines.filter((l) => l.msg === 'S/MIME directory looked up');
    for (const addr of [`hana*@${D}`, '*', `${HANA})(mail=*`, `*)(|(mail=*`, `hana\\2a@${D}`]) {
      const before = looked().length;
      const found = await bridge.directory!.find([addr]);
      assert.equal(found.size, 0, addr);
      const line = looked().at(before);
      assert.equal(line?.fields['found'], 0, addr);
      // an entry matched would be named here (its certificate names hana or ivan, not addr)
      assert.equal(line?.fields['rejected'], undefined, `${addr}: ${String(line?.fields['rejected'])}`);
    }
    const found = await bridge.directory!.find([IVAN]);
    assert.equal(found.size, 1);
    assert.ok(found.get(IVAN)?.certDer.length);
  });

  it('an anonymous directory asked for many recipients at once answers for each', async () => {
    // ldapts opens a connection per operation started before the first connected: searches that
    // all start at once on a fresh anonymous connection got no answer (the lookup timed out)
    const open = await startSlapd({ suffix: SUFFIX, ldif });
    try {
      await bridge.api.updateSettings({
        smimeDirectory: { url: open.url, baseDn: PEOPLE, bindDn: null, timeoutMs: 5000 },
      });
      const others = Array.from({ length: 12 }, (_, i) => `nobody${i}@${D}`);
      const found = await bridge.directory!.find([HANA, ...others, IVAN]);
      assert.deepEqual([...found.keys()].sort(), [HANA, IVAN]);
      const last = (await bridge.api.status()).certificateDirectory?.lastLookup;
      assert.equal(last?.ok, true, last?.detail);
      assert.equal(last?.detail, '2 of 14 certificates found');
    } finally {
      await directory(slapd.url);
      await open.close();
    }
  });

  it('an address the directory has no entry for is asked once, not on every send', async () => {
    const asked = (addr: string) => slapd.searches().filter((f) => f === `(mail=${addr})`).length;
    // slapd logs its searches in order: once ivan's shows, every search before it has been counted
    const settled = async () => {
      const n = asked(IVAN);
      await bridge.directory!.find([IVAN]);
      await waitFor('slapd logged the search for ivan', async () => asked(IVAN) > n || undefined, 10_000);
    };
    await settled();
    const before = asked(DAN);
    for (let i = 0; i < 2; i++) {
      const id = await send(DAN);
      assert.doesNotMatch((await arrived(p, DAN, id)).toString(), /application\/pkcs7-mime/);
    }
    await settled();
    assert.equal(asked(DAN) - before, 1, 'searches for an absent address over two sends');
    assert.equal((await bridge.api.status()).certificateDirectory?.lastLookup?.ok, true);

    // a changed setting forgets what the old directory said
    await directory(slapd.url, 4000);
    await bridge.directory!.find([DAN]);
    await settled();
    assert.equal(asked(DAN) - before, 2, 'asked again after the setting changed');

    // a directory that refused the lookup (wrong bind password) said nothing of the address:
    // asked again as soon as it answers
    const other = `nobody@${D}`;
    try {
      await bridge.api.setDirectoryPassword('not-the-password');
      assert.equal((await bridge.directory!.find([other])).size, 0);
      assert.equal((await bridge.api.status()).certificateDirectory?.lastLookup?.ok, false);
    } finally {
      await bridge.api.setDirectoryPassword(slapd.rootPw);
    }
    await bridge.directory!.find([other]);
    await settled();
    assert.equal(asked(other), 1, 'asked again after the directory refused');
    assert.equal((await bridge.api.status()).certificateDirectory?.lastLookup?.ok, true);
  });

  it('an ldaps:// directory with a certificate from a private CA answers once that CA is set', async () => {
    const tlsCa = await createTestCa('Directory Test CA');
    const secure = await startSlapd({
      suffix: SUFFIX,
      ldif,
      tls: { ...(await tlsCa.issue(['localhost'])), caPem: tlsCa.caPem },
    });
    const conf = { url: secure.url, baseDn: PEOPLE, bindDn: null, timeoutMs: 5000 };
    try {
      // the slapd does serve ldaps with that certificate
      assert.match(secure.search(`(mail=${IVAN})`, 'mail'), new RegExp(`mail: ${IVAN}`));
      await bridge.api.updateSettings({ smimeDirectory: conf });
      assert.equal((await bridge.directory!.find([IVAN])).size, 0);
      let last = (await bridge.api.status()).certificateDirectory?.lastLookup;
      assert.equal(last?.ok, false);
      assert.match(last?.detail ?? '', /certificate/i);
      assert.match(last?.detail ?? '', /not from a trusted CA .*caPem/);

      await bridge.api.updateSettings({ smimeDirectory: { ...conf, caPem: tlsCa.caPem } });
      assert.equal((await bridge.api.getSettings()).smimeDirectory?.caPem, tlsCa.caPem);
      const found = await bridge.directory!.find([IVAN]);
      last = (await bridge.api.status()).certificateDirectory?.lastLookup;
      assert.equal(last?.ok, true, last?.detail);
      assert.equal(found.size, 1);

      // another CA's certificate is no trust for this directory
      const otherCa = await createTestCa('Some Other CA');
      await bridge.api.updateSettings({ smimeDirectory: { ...conf, caPem: otherCa.caPem } });
      assert.equal((await bridge.directory!.find([IVAN])).size, 0);
      assert.equal((await bridge.api.status()).certificateDirectory?.lastLookup?.ok, false);

      await assert.rejects(
        bridge.api.updateSettings({ smimeDirectory: { ...conf, caPem: 'not a certificate' } }),
      );
    } finally {
      await directory(slapd.url);
      await secure.close();
    }
  });

  it('a directory that is down or never answers: the mail goes out by the usual policy, said in the log and status', async () => {
    const down = await freePort(); // nothing listens there
    await directory(`ldap://127.0.0.1:${down}`);
    const earlier = lines.length;
    const warned = () =>
      lines.slice(earlier).filter((l) => l.level === 'warn' && /S\/MIME directory unreachable/.test(l.msg));
    const id = await send(DAN);
    const msg = await arrived(p, DAN, id);
    assert.doesNotMatch(msg.toString(), /application\/pkcs7-mime/);
    assert.equal(warned().length, 1);
    assert.equal(warned()[0]!.fields['directory'], `ldap://127.0.0.1:${down}`);
    let last = (await bridge.api.status()).certificateDirectory?.lastLookup;
    assert.equal(last?.ok, false);
    assert.match(last?.detail ?? '', /ECONNREFUSED|refused/i);

    // accepts the connection, never answers: the send waits at most the timeout
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
    });
    const port = await freePort();
    await new Promise<void>((r) => silent.listen(port, '127.0.0.1', r));
    try {
      await directory(`ldap://127.0.0.1:${port}`, 800);
      const id2 = await send(DAN);
      const msg2 = await arrived(p, DAN, id2);
      assert.doesNotMatch(msg2.toString(), /application\/pkcs7-mime/);
      assert.ok(sockets.size >= 1, 'the directory was asked');
      assert.equal(warned().length, 2);
      last = (await bridge.api.status()).certificateDirectory?.lastLookup;
      assert.equal(last?.ok, false);
      assert.match(last?.detail ?? '', /800 ms|timeout|timed out/i);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
      await directory(slapd.url);
    }
  });

  it('the bind password is in no file, log line, setting or report', async () => {
    const settings = await bridge.api.getSettings();
    assert.doesNotMatch(JSON.stringify(settings), new RegExp(slapd.rootPw));
    const report = await bridge.api.createReport({ includePersonal: true });
    const files = assertNoSecrets({
      dirs: [home],
      outputs: [JSON.stringify(lines), report.content],
      secrets: [{ what: 'directory bind password', value: slapd.rootPw }],
    });
    assert.ok(files.some((f) => f.endsWith('store.db')));
  });
});
