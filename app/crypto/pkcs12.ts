/**
 * PKCS#12 (RFC 7292) reading with pkijs: a .p12/.pfx holding the user's S/MIME certificate, its
 * private key and the chain. The MAC is checked with the passphrase; shrouded key bags and
 * encrypted safe contents are opened with it (PBES2: PBKDF2 + AES, as OpenSSL 3, Windows and macOS
 * write them; the legacy RC2/3DES PBEs of `openssl pkcs12 -legacy` are not supported).
 *
 * Writing (export) makes what OpenSSL 3 makes by default (PBES2 AES-256-CBC, SHA-256 MAC).
 *
 * Pure: bytes in, DER out; no I/O.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';

const BAG = {
  key: '1.2.840.113549.1.12.10.1.1',
  shroudedKey: '1.2.840.113549.1.12.10.1.2',
  cert: '1.2.840.113549.1.12.10.1.3',
} as const;
const X509_CERT_TYPE = '1.2.840.113549.1.9.22.1';

export type Pkcs12ErrorCode = 'bad-passphrase' | 'malformed' | 'unsupported' | 'no-key';

export class Pkcs12Error extends Error {
  readonly code: Pkcs12ErrorCode;
  constructor(code: Pkcs12ErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = 'Pkcs12Error';
  }
}

/** What a PKCS#12 file holds: the certificate matching its private key, the key, the other certificates. */
export interface Pkcs12Contents {
  /** DER */
  certificate: Uint8Array;
  /** PKCS#8 DER */
  privateKey: Uint8Array;
  /** the other certificates (the chain), DER */
  chain: Uint8Array[];
}

interface Openable {
  parseInternalValues(p: { password: ArrayBuffer }): Promise<void>;
}

function ab(u: Uint8Array): ArrayBuffer {
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
}

export async function readPkcs12(bytes: Uint8Array, passphrase: string): Promise<Pkcs12Contents> {
  const password = ab(Buffer.from(passphrase, 'utf8'));
  let pfx: pkijs.PFX;
  try {
    const asn = asn1js.fromBER(ab(bytes));
    if (asn.offset === -1) throw new Error('not BER');
    pfx = new pkijs.PFX({ schema: asn.result });
  } catch {
    throw new Pkcs12Error('malformed', 'not a PKCS#12 file');
  }
  try {
    await pfx.parseInternalValues({ password, checkIntegrity: true });
  } catch (err) {
    const msg = (err as Error).message ?? '';
    if (/integrity|mac|stamp/i.test(msg)) throw new Pkcs12Error('bad-passphrase', 'wrong passphrase');
    throw new Pkcs12Error('unsupported', `PKCS#12: ${msg.slice(0, 120)}`);
  }
  const safe = pfx.parsedValue?.authenticatedSafe;
  if (!safe) throw new Pkcs12Error('malformed', 'PKCS#12 without contents');
  try {
    await safe.parseInternalValues({ safeContents: safe.safeContents.map(() => ({ password })) });
  } catch (err) {
    throw new Pkcs12Error('unsupported', `PKCS#12 contents: ${((err as Error).message ?? '').slice(0, 120)}`);
  }
  const keys: Uint8Array[] = [];
  const certs: Uint8Array[] = [];
  for (const sc of safe.parsedValue?.safeContents ?? []) {
    for (const bag of sc.value.safeBags) {
      if (bag.bagId === BAG.shroudedKey) {
        const shrouded = bag.bagValue as pkijs.PKCS8ShroudedKeyBag;
        try {
          // protected in pkijs's typings, public at run time (pkijs's own PKCS#12 example calls it)
          await (shrouded as unknown as Openable).parseInternalValues({ password });
        } catch {
          throw new Pkcs12Error('bad-passphrase', 'the private key could not be opened with this passphrase');
        }
        if (shrouded.parsedValue) keys.push(new Uint8Array(shrouded.parsedValue.toSchema().toBER()));
      } else if (bag.bagId === BAG.key) {
        keys.push(new Uint8Array((bag.bagValue as pkijs.PrivateKeyInfo).toSchema().toBER()));
      } else if (bag.bagId === BAG.cert) {
        const cb = bag.bagValue as pkijs.CertBag;
        if (cb.certId === X509_CERT_TYPE && cb.parsedValue instanceof pkijs.Certificate)
          certs.push(new Uint8Array(cb.parsedValue.toSchema().toBER()));
      }
    }
  }
  if (!keys.length) throw new Pkcs12Error('no-key', 'the PKCS#12 file holds no private key');
  // The user's certificate is the one whose public key is the private key's.
  for (const key of keys) {
    const pub = createPublicKey(createPrivateKey({ key: Buffer.from(key), format: 'der', type: 'pkcs8' }))
      .export({ format: 'der', type: 'spki' })
      .toString('hex');
    const idx = certs.findIndex((c) => {
      const spki = pkijs.Certificate.fromBER(ab(c)).subjectPublicKeyInfo.toSchema().toBER();
      const normalized = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
      return normalized.export({ format: 'der', type: 'spki' }).toString('hex') === pub;
    });
    if (idx >= 0)
      return { certificate: certs[idx]!, privateKey: key, chain: certs.filter((_, i) => i !== idx) };
  }
  throw new Pkcs12Error('no-key', 'no certificate in the PKCS#12 file matches its private key');
}

export interface Pkcs12Input {
  /** DER */
  certificate: Uint8Array;
  /** PKCS#8 DER */
  privateKey: Uint8Array;
  /** the chain to carry along, DER */
  chain?: readonly Uint8Array[];
  /** shown by clients as the identity's name (e.g. the address) */
  friendlyName?: string;
}

/** PBKDF2 iterations of the key and certificate encryption; the MAC's PKCS#12 KDF iterations. */
const PBKDF2_ITERATIONS = 100_000;
const MAC_ITERATIONS = 2048;
const ATTR = { friendlyName: '1.2.840.113549.1.9.20', localKeyId: '1.2.840.113549.1.9.21' };

/**
 * Writes a PKCS#12 file as OpenSSL 3 does by default: the private key in a shrouded key bag and the
 * certificates in an encrypted safe, both PBES2 (PBKDF2 HMAC-SHA-256, AES-256-CBC), and a SHA-256
 * MAC over the whole — all keyed by `passphrase` (not empty). The key's and the certificate's bags
 * share a localKeyId, as clients (macOS, Windows, NSS) pair them by it. Built with pkijs.
 */
export async function writePkcs12(input: Pkcs12Input, passphrase: string): Promise<Uint8Array> {
  if (!passphrase) throw new Pkcs12Error('bad-passphrase', 'a PKCS#12 file needs a passphrase');
  const password = ab(Buffer.from(passphrase, 'utf8'));
  const keyId = new Uint8Array(createHash('sha1').update(input.certificate).digest());
  const attributes = (name?: string) => [
    new pkijs.Attribute({ type: ATTR.localKeyId, values: [new asn1js.OctetString({ valueHex: keyId })] }),
    ...(name
      ? [new pkijs.Attribute({ type: ATTR.friendlyName, values: [new asn1js.BmpString({ value: name })] })]
      : []),
  ];
  const keyBag = new pkijs.PKCS8ShroudedKeyBag({
    parsedValue: pkijs.PrivateKeyInfo.fromBER(ab(input.privateKey)),
  });
  const certBag = (der: Uint8Array, own: boolean) =>
    new pkijs.SafeBag({
      bagId: BAG.cert,
      bagValue: new pkijs.CertBag({ parsedValue: pkijs.Certificate.fromBER(ab(der)) }),
      ...(own ? { bagAttributes: attributes(input.friendlyName) } : {}),
    });
  const pbes2 = {
    password,
    contentEncryptionAlgorithm: { name: 'AES-CBC', length: 256 },
    hmacHashAlgorithm: 'SHA-256',
    iterationCount: PBKDF2_ITERATIONS,
  };
  const pfx = new pkijs.PFX({
    parsedValue: {
      integrityMode: 0,
      authenticatedSafe: new pkijs.AuthenticatedSafe({
        parsedValue: {
          safeContents: [
            {
              privacyMode: 0,
              value: new pkijs.SafeContents({
                safeBags: [
                  new pkijs.SafeBag({
                    bagId: BAG.shroudedKey,
                    bagValue: keyBag,
                    bagAttributes: attributes(input.friendlyName),
                  }),
                ],
              }),
            },
            {
              privacyMode: 1,
              value: new pkijs.SafeContents({
                safeBags: [
                  certBag(input.certificate, true),
                  ...(input.chain ?? []).map((c) => certBag(c, false)),
                ],
              }),
            },
          ],
        },
      }),
    },
  });
  await keyBag.makeInternalValues(pbes2);
  await pfx.parsedValue!.authenticatedSafe!.makeInternalValues({ safeContents: [{}, pbes2] });
  await pfx.makeInternalValues({
    password,
    iterations: MAC_ITERATIONS,
    pbkdf2HashAlgorithm: 'SHA-256',
    hmacHashAlgorithm: 'SHA-256',
  });
  return new Uint8Array(pfx.toSchema().toBER(false));
}
