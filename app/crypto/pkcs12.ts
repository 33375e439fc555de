/**
 * PKCS#12 (RFC 7292) with pkijs: a .p12/.pfx holding the user's S/MIME certificate, its private
 * key and the chain. Reading checks the MAC with the passphrase and opens shrouded key bags and
 * encrypted safe contents with it: PBES2 (PBKDF2 + AES, as OpenSSL 3, Windows and macOS write
 * them) and pbeWithSHAAnd3-KeyTripleDES-CBC (RFC 7292 appendix C; what `openssl pkcs12 -legacy`
 * uses for keys, and what we write); the 40-bit RC2 of `-legacy` certificates is not supported.
 *
 * Writing (export) uses pbeWithSHAAnd3-KeyTripleDES-CBC for the key and the certificates with an
 * HMAC-SHA-1 MAC, all keyed by the PKCS#12 KDF (appendix B) at 20,000 iterations (ten times
 * OpenSSL 3's 2,048 for its MAC, the easiest place to guess a passphrase at): the one format
 * that gpgsm 2.2 (which reads no PBES2 with HMAC-SHA-256, i.e. no OpenSSL 3 default file), OpenSSL 3
 * and NSS (Thunderbird) all import.
 *
 * Pure: bytes in, DER out; no I/O. The KDF yields to the event loop every 2,000 hashes.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

const BAG = {
  key: '1.2.840.113549.1.12.10.1.1',
  shroudedKey: '1.2.840.113549.1.12.10.1.2',
  cert: '1.2.840.113549.1.12.10.1.3',
} as const;
const X509_CERT_TYPE = '1.2.840.113549.1.9.22.1';
const PBE_SHA1_3DES = '1.2.840.113549.1.12.1.3';
const CMS_DATA = '1.2.840.113549.1.7.1';
const CMS_ENCRYPTED_DATA = '1.2.840.113549.1.7.6';
const MAC_HASHES: Record<string, { name: 'sha1' | 'sha256' | 'sha384' | 'sha512'; v: number }> = {
  '1.3.14.3.2.26': { name: 'sha1', v: 64 },
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', v: 64 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', v: 128 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', v: 128 },
};
const SHA1 = MAC_HASHES['1.3.14.3.2.26']!;

/** The passphrase as the PKCS#12 KDF takes it: a BMPString (UTF-16BE) with a terminating zero. */
function bmpPassword(passphrase: string): Buffer {
  const out = Buffer.alloc(passphrase.length * 2 + 2);
  for (let i = 0; i < passphrase.length; i++) out.writeUInt16BE(passphrase.charCodeAt(i), i * 2);
  return out;
}

const HASHES_PER_TURN = 2_000;

/**
 * The PKCS#12 key derivation (RFC 7292 appendix B.2): `id` 1 derives a key, 2 an IV, 3 a MAC key.
 * Yields to the event loop every 2,000 hashes (20,000 take ~30 ms of CPU on an idle machine).
 */
export async function pkcs12Kdf(
  hash: { name: string; v: number },
  id: 1 | 2 | 3,
  passphrase: string,
  salt: Uint8Array,
  iterations: number,
  length: number,
): Promise<Buffer> {
  const { v } = hash;
  const repeat = (b: Uint8Array) => {
    const out = Buffer.alloc(v * Math.ceil(b.length / v));
    for (let i = 0; i < out.length; i++) out[i] = b[i % b.length]!;
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([repeat(salt), repeat(bmpPassword(passphrase))]);
  const out: Buffer[] = [];
  let have = 0;
  let hashed = 0;
  while (have < length) {
    let A = createHash(hash.name).update(D).update(I).digest();
    for (let j = 1; j < iterations; j++) {
      A = createHash(hash.name).update(A).digest();
      if (++hashed % HASHES_PER_TURN === 0) await new Promise((r) => setImmediate(r));
    }
    out.push(A);
    have += A.length;
    if (have >= length) break;
    // I_j = (I_j + B + 1) mod 2^(8v) for every v-byte block, B = A repeated to v bytes
    const B = repeat(A).subarray(0, v);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const x = I[j + k]! + B[k]! + carry;
        I[j + k] = x & 0xff;
        carry = x >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, length);
}

/** pbeWithSHAAnd3-KeyTripleDES-CBC over `data` with pkcs-12PbeParams (salt, iterations). */
async function tripleDes(
  decrypt: boolean,
  params: { salt: Uint8Array; iterations: number },
  passphrase: string,
  data: Uint8Array,
): Promise<Buffer> {
  const key = await pkcs12Kdf(SHA1, 1, passphrase, params.salt, params.iterations, 24);
  const iv = await pkcs12Kdf(SHA1, 2, passphrase, params.salt, params.iterations, 8);
  const c = decrypt ? createDecipheriv('des-ede3-cbc', key, iv) : createCipheriv('des-ede3-cbc', key, iv);
  return Buffer.concat([c.update(data), c.final()]);
}

/** pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER } */
function pbeParams(alg: pkijs.AlgorithmIdentifier): { salt: Uint8Array; iterations: number } {
  const seq = alg.algorithmParams as asn1js.Sequence;
  const [salt, iter] = seq?.valueBlock?.value ?? [];
  if (!(salt instanceof asn1js.OctetString) || !(iter instanceof asn1js.Integer))
    throw new Pkcs12Error('malformed', 'PKCS#12: bad pbeWithSHAAnd3-KeyTripleDES-CBC parameters');
  const iterations = iter.valueBlock.valueDec;
  if (iterations < 1 || iterations > 10_000_000)
    throw new Pkcs12Error('unsupported', `PKCS#12: ${iterations} iterations`);
  return { salt: octets(salt), iterations };
}

function makePbeParams(salt: Uint8Array, iterations: number): pkijs.AlgorithmIdentifier {
  return new pkijs.AlgorithmIdentifier({
    algorithmId: PBE_SHA1_3DES,
    algorithmParams: new asn1js.Sequence({
      value: [new asn1js.OctetString({ valueHex: salt }), new asn1js.Integer({ value: iterations })],
    }),
  });
}

/** The bytes of an OCTET STRING, primitive or constructed (BER). */
function octets(os: asn1js.BaseBlock): Buffer {
  const block = os as asn1js.OctetString;
  if (block.idBlock.isConstructed)
    return Buffer.concat(((block.valueBlock.value as asn1js.BaseBlock[]) ?? []).map((p) => octets(p)));
  return Buffer.from(block.valueBlock.valueHexView);
}

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
  let safeInfos: pkijs.ContentInfo[];
  let authSafeBytes: Buffer;
  try {
    const asn = asn1js.fromBER(ab(bytes));
    if (asn.offset === -1) throw new Error('not BER');
    pfx = new pkijs.PFX({ schema: asn.result });
    if (pfx.authSafe.contentType !== CMS_DATA) throw new Error('not password-integrity');
    authSafeBytes = octets(pfx.authSafe.content as asn1js.OctetString);
    safeInfos = pkijs.AuthenticatedSafe.fromBER(ab(authSafeBytes)).safeContents;
  } catch {
    throw new Pkcs12Error('malformed', 'not a PKCS#12 file');
  }
  await checkMac(pfx, authSafeBytes, passphrase);
  const bags: pkijs.SafeBag[] = [];
  for (const info of safeInfos) {
    let plain: Buffer;
    try {
      if (info.contentType === CMS_DATA) plain = octets(info.content as asn1js.OctetString);
      else if (info.contentType === CMS_ENCRYPTED_DATA) {
        const enc = new pkijs.EncryptedData({ schema: info.content });
        const eci = enc.encryptedContentInfo;
        if (eci.contentEncryptionAlgorithm.algorithmId === PBE_SHA1_3DES) {
          if (!eci.encryptedContent) throw new Error('no encrypted content');
          plain = await tripleDes(
            true,
            pbeParams(eci.contentEncryptionAlgorithm),
            passphrase,
            octets(eci.encryptedContent),
          );
        } else plain = Buffer.from(await enc.decrypt({ password }));
      } else continue; // public-key privacy mode: not for us
    } catch (err) {
      if (err instanceof Pkcs12Error) throw err;
      throw new Pkcs12Error(
        'unsupported',
        `PKCS#12 contents: ${((err as Error).message ?? '').slice(0, 120)}`,
      );
    }
    try {
      bags.push(...pkijs.SafeContents.fromBER(ab(plain)).safeBags);
    } catch {
      throw new Pkcs12Error(
        'bad-passphrase',
        'the PKCS#12 contents could not be opened with this passphrase',
      );
    }
  }
  const keys: Uint8Array[] = [];
  const certs: Uint8Array[] = [];
  for (const bag of bags) {
    if (bag.bagId === BAG.shroudedKey) {
      const shrouded = bag.bagValue as pkijs.PKCS8ShroudedKeyBag;
      try {
        if (shrouded.encryptionAlgorithm.algorithmId === PBE_SHA1_3DES) {
          const der = await tripleDes(
            true,
            pbeParams(shrouded.encryptionAlgorithm),
            passphrase,
            octets(shrouded.encryptedData),
          );
          keys.push(new Uint8Array(pkijs.PrivateKeyInfo.fromBER(ab(der)).toSchema().toBER()));
        } else {
          // protected in pkijs's typings, public at run time (pkijs's own PKCS#12 example calls it)
          await (shrouded as unknown as Openable).parseInternalValues({ password });
          if (shrouded.parsedValue) keys.push(new Uint8Array(shrouded.parsedValue.toSchema().toBER()));
        }
      } catch {
        throw new Pkcs12Error('bad-passphrase', 'the private key could not be opened with this passphrase');
      }
    } else if (bag.bagId === BAG.key) {
      keys.push(new Uint8Array((bag.bagValue as pkijs.PrivateKeyInfo).toSchema().toBER()));
    } else if (bag.bagId === BAG.cert) {
      const cb = bag.bagValue as pkijs.CertBag;
      if (cb.certId === X509_CERT_TYPE && cb.parsedValue instanceof pkijs.Certificate)
        certs.push(new Uint8Array(cb.parsedValue.toSchema().toBER()));
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

/** Checks the password MAC (RFC 7292 appendix B keyed HMAC) over the authenticated safe, if any. */
async function checkMac(pfx: pkijs.PFX, authSafe: Buffer, passphrase: string): Promise<void> {
  const macData = pfx.macData;
  if (!macData) return;
  const alg = macData.mac.digestAlgorithm.algorithmId;
  const hash = MAC_HASHES[alg];
  if (!hash) throw new Pkcs12Error('unsupported', `PKCS#12 MAC algorithm ${alg}`);
  const iterations = macData.iterations ?? 1;
  if (iterations < 1 || iterations > 10_000_000)
    throw new Pkcs12Error('unsupported', `PKCS#12: ${iterations} MAC iterations`);
  const want = octets(macData.mac.digest);
  const size = createHash(hash.name).digest().length;
  const key = await pkcs12Kdf(hash, 3, passphrase, octets(macData.macSalt), iterations, size);
  const got = createHmac(hash.name, key).update(authSafe).digest();
  if (got.length !== want.length || !timingSafeEqual(got, want))
    throw new Pkcs12Error('bad-passphrase', 'wrong passphrase');
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

/** Iterations of the PKCS#12 KDF for the key, the certificates and the MAC. */
const ITERATIONS = 20_000;
const ATTR = { friendlyName: '1.2.840.113549.1.9.20', localKeyId: '1.2.840.113549.1.9.21' };

/**
 * Writes a PKCS#12 file every client we know imports (gpgsm 2.2, OpenSSL 3, NSS): the private key
 * in a shrouded key bag and the certificates in an encrypted safe, both
 * pbeWithSHAAnd3-KeyTripleDES-CBC, and an HMAC-SHA-1 MAC over the whole — all keyed by
 * `passphrase` (not empty) through the PKCS#12 KDF with fresh salts. The key's and the
 * certificate's bags share a localKeyId, as clients (macOS, Windows, NSS) pair them by it. The
 * structures are pkijs's.
 */
export async function writePkcs12(input: Pkcs12Input, passphrase: string): Promise<Uint8Array> {
  if (!passphrase) throw new Pkcs12Error('bad-passphrase', 'a PKCS#12 file needs a passphrase');
  const keyId = new Uint8Array(createHash('sha1').update(input.certificate).digest());
  const attributes = (name?: string) => [
    new pkijs.Attribute({ type: ATTR.localKeyId, values: [new asn1js.OctetString({ valueHex: keyId })] }),
    ...(name
      ? [new pkijs.Attribute({ type: ATTR.friendlyName, values: [new asn1js.BmpString({ value: name })] })]
      : []),
  ];
  const keySalt = randomBytes(16);
  const keyBag = new pkijs.PKCS8ShroudedKeyBag({
    encryptionAlgorithm: makePbeParams(keySalt, ITERATIONS),
    encryptedData: new asn1js.OctetString({
      valueHex: await tripleDes(
        false,
        { salt: keySalt, iterations: ITERATIONS },
        passphrase,
        new Uint8Array(pkijs.PrivateKeyInfo.fromBER(ab(input.privateKey)).toSchema().toBER()),
      ),
    }),
  });
  const keySafe = new pkijs.SafeContents({
    safeBags: [
      new pkijs.SafeBag({
        bagId: BAG.shroudedKey,
        bagValue: keyBag,
        bagAttributes: attributes(input.friendlyName),
      }),
    ],
  });
  const certBag = (der: Uint8Array, own: boolean) =>
    new pkijs.SafeBag({
      bagId: BAG.cert,
      bagValue: new pkijs.CertBag({ parsedValue: pkijs.Certificate.fromBER(ab(der)) }),
      ...(own ? { bagAttributes: attributes(input.friendlyName) } : {}),
    });
  const certSafe = new pkijs.SafeContents({
    safeBags: [certBag(input.certificate, true), ...(input.chain ?? []).map((c) => certBag(c, false))],
  });
  const certSalt = randomBytes(16);
  const encryptedCerts = new pkijs.EncryptedData({
    version: 0,
    encryptedContentInfo: new pkijs.EncryptedContentInfo({
      contentType: CMS_DATA,
      contentEncryptionAlgorithm: makePbeParams(certSalt, ITERATIONS),
      encryptedContent: new asn1js.OctetString({
        valueHex: await tripleDes(
          false,
          { salt: certSalt, iterations: ITERATIONS },
          passphrase,
          new Uint8Array(certSafe.toSchema().toBER()),
        ),
      }),
      disableSplit: true,
    }),
  });
  const authSafe = Buffer.from(
    new pkijs.AuthenticatedSafe({
      safeContents: [
        new pkijs.ContentInfo({
          contentType: CMS_DATA,
          content: new asn1js.OctetString({ valueHex: keySafe.toSchema().toBER() }),
        }),
        new pkijs.ContentInfo({ contentType: CMS_ENCRYPTED_DATA, content: encryptedCerts.toSchema() }),
      ],
    })
      .toSchema()
      .toBER(),
  );
  const macSalt = randomBytes(16);
  const macKey = await pkcs12Kdf(SHA1, 3, passphrase, macSalt, ITERATIONS, 20);
  const pfx = new pkijs.PFX({
    version: 3,
    authSafe: new pkijs.ContentInfo({
      contentType: CMS_DATA,
      content: new asn1js.OctetString({ valueHex: authSafe }),
    }),
    macData: new pkijs.MacData({
      mac: new pkijs.DigestInfo({
        digestAlgorithm: new pkijs.AlgorithmIdentifier({
          algorithmId: '1.3.14.3.2.26',
          algorithmParams: new asn1js.Null(),
        }),
        digest: new asn1js.OctetString({ valueHex: createHmac('sha1', macKey).update(authSafe).digest() }),
      }),
      macSalt: new asn1js.OctetString({ valueHex: macSalt }),
      iterations: ITERATIONS,
    }),
  });
  return new Uint8Array(pfx.toSchema().toBER(false));
}
