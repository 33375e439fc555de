/**
 * S/MIME (RFC 8551) writing: the user's outgoing mail signed as multipart/signed with an
 * application/pkcs7-signature part (CMS signed-data, RFC 5652), then encrypted as
 * application/pkcs7-mime — authEnveloped-data with AES-256-GCM (RFC 5083/5084) when every
 * recipient of the copy announces it, enveloped-data with AES-256-CBC otherwise.
 *
 * The structures are pkijs/asn1js objects (no ASN.1 of our own); the primitives node:crypto's:
 * SHA-256 signatures (RSA PKCS#1 v1.5 for an rsaEncryption key, RSA-PSS for an id-RSASSA-PSS
 * key, ECDSA for an EC key), RSA PKCS#1 v1.5 key transport (what every S/MIME client reads; gpgsm
 * 2.2 reads no OAEP), ECDH ephemeral-static with the X9.63 SHA-256 KDF and AES-256 key wrap (RFC
 * 5753, dhSinglePass-stdDH-sha256kdf-scheme), AES content encryption. The reading side is
 * smime.ts.
 *
 * Pure: bytes in, bytes out; no I/O.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import {
  constants,
  createCipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
  sign as signWith,
  type KeyObject,
} from 'node:crypto';
import { CmsError, parseCertificate, x963Kdf } from './smime.ts';
import { splitMessage } from './message-parts.ts';
import { makeSevenBitSafe } from './seven-bit.ts';
import { buildMultipartBody, freshBoundary, rawField } from '../mime/build.ts';
import { normalizeCrlf } from '../mime/crlf.ts';
import { OID } from './cms-oids.ts';

/** What we announce in SMIMECapabilities, most preferred first (RFC 8551 §2.5.2). */
const ANNOUNCED = [OID.aes256Gcm, OID.aes256Cbc, OID.aes128Gcm, OID.aes128Cbc] as const;

/** The content-encryption algorithm OIDs that make a recipient's capabilities allow AES-256-GCM. */
export const AES256_GCM_OID: string = OID.aes256Gcm;

/** The user's certificate and private key (PKCS#8), DER, and the certificates of its chain. */
export interface SmimeSigner {
  certificate: Uint8Array;
  privateKey: Uint8Array;
  /** intermediate (and root) certificates to include, DER */
  chain?: readonly Uint8Array[];
}

function ab(u: Uint8Array): ArrayBuffer {
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
}

function alg(algorithmId: string, algorithmParams?: asn1js.AsnType): pkijs.AlgorithmIdentifier {
  return new pkijs.AlgorithmIdentifier(algorithmParams ? { algorithmId, algorithmParams } : { algorithmId });
}

/** How the certificate's key signs: the CMS signature algorithm and the node:crypto call. */
function signerFor(key: KeyObject): { algorithm: pkijs.AlgorithmIdentifier; sign(d: Buffer): Buffer } {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return {
        algorithm: alg(OID.rsaEncryption, new asn1js.Null()),
        sign: (d) => signWith('sha256', d, { key, padding: constants.RSA_PKCS1_PADDING }),
      };
    case 'rsa-pss': {
      const sha256 = alg(OID.sha256);
      const params = new pkijs.RSASSAPSSParams({
        hashAlgorithm: sha256,
        maskGenAlgorithm: alg(OID.mgf1, sha256.toSchema()),
        saltLength: 32,
      });
      return {
        algorithm: alg(OID.rsaPss, params.toSchema()),
        sign: (d) => signWith('sha256', d, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }),
      };
    }
    case 'ec':
      return { algorithm: alg(OID.ecdsaSha256), sign: (d) => signWith('sha256', d, key) };
    default:
      throw new CmsError(`cannot sign with a ${key.asymmetricKeyType ?? 'unknown'} key`);
  }
}

/** SMIMECapabilities ::= SEQUENCE OF SMIMECapability { capabilityID OID, parameters OPTIONAL }. */
function capabilities(): asn1js.Sequence {
  return new asn1js.Sequence({
    value: ANNOUNCED.map(
      (oid) => new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid })] }),
    ),
  });
}

/**
 * Detached CMS signed-data over `content` (SHA-256), with the signed attributes content type,
 * signing time, message digest and SMIMECapabilities, the signer's certificate and chain.
 */
export function signDetached(content: Buffer, signer: SmimeSigner, date = new Date()): Buffer {
  const cert = parseCertificate(signer.certificate);
  const key = createPrivateKey({ key: Buffer.from(signer.privateKey), format: 'der', type: 'pkcs8' });
  const how = signerFor(key);
  const digest = createHash('sha256').update(content).digest();
  const attrs = [
    new pkijs.Attribute({
      type: OID.contentType,
      values: [new asn1js.ObjectIdentifier({ value: OID.data })],
    }),
    new pkijs.Attribute({ type: OID.signingTime, values: [new asn1js.UTCTime({ valueDate: date })] }),
    new pkijs.Attribute({
      type: OID.messageDigest,
      values: [new asn1js.OctetString({ valueHex: ab(digest) })],
    }),
    new pkijs.Attribute({ type: OID.smimeCapabilities, values: [capabilities()] }),
  ];
  // DER orders a SET OF by the encodings; verifiers (OpenSSL) re-encode signedAttrs in DER
  const sorted = attrs
    .map((a) => ({ a, der: Buffer.from(a.toSchema().toBER()) }))
    .sort((x, y) => Buffer.compare(x.der, y.der))
    .map((x) => x.a);
  const signedSet = Buffer.from(new asn1js.Set({ value: sorted.map((a) => a.toSchema()) }).toBER());
  const signature = how.sign(signedSet);
  const signerInfo = new pkijs.SignerInfo({
    version: 1,
    sid: new pkijs.IssuerAndSerialNumber({ issuer: cert.issuer, serialNumber: cert.serialNumber }),
    digestAlgorithm: alg(OID.sha256),
    signedAttrs: new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes: sorted }),
    signatureAlgorithm: how.algorithm,
    signature: new asn1js.OctetString({ valueHex: ab(signature) }),
  });
  const signed = new pkijs.SignedData({
    version: 1,
    digestAlgorithms: [alg(OID.sha256)],
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data }),
    certificates: [cert, ...(signer.chain ?? []).map((c) => parseCertificate(c))],
    signerInfos: [signerInfo],
  });
  const info = new pkijs.ContentInfo({ contentType: OID.signedData, content: signed.toSchema(true) });
  return Buffer.from(info.toSchema().toBER());
}

/** Base64 in lines of 76 characters, CRLF (built as bytes: a large message stays cheap). */
function base64Lines(der: Buffer): Buffer {
  const b64 = Buffer.from(der.toString('base64'), 'latin1');
  const lines = Math.ceil(b64.length / 76);
  const out = Buffer.allocUnsafe(b64.length + lines * 2);
  let o = 0;
  for (let i = 0; i < b64.length; i += 76) {
    o += b64.copy(out, o, i, Math.min(i + 76, b64.length));
    out[o++] = 13;
    out[o++] = 10;
  }
  return out.subarray(0, o);
}

/**
 * A MIME entity signed as multipart/signed (RFC 8551 §3.5): the entity made 7-bit safe and CRLF
 * (its exact bytes are what is signed), then the application/pkcs7-signature part. Returns the
 * whole multipart/signed entity (its Content-Type header, blank line, body).
 */
export function signEntity(entity: Buffer, signer: SmimeSigner, date?: Date): Buffer {
  const content = makeSevenBitSafe(normalizeCrlf(entity));
  const cms = signDetached(content, signer, date);
  const sigPart = Buffer.concat([
    Buffer.from(
      'Content-Type: application/pkcs7-signature; name="smime.p7s"\r\n' +
        'Content-Transfer-Encoding: base64\r\n' +
        'Content-Disposition: attachment; filename="smime.p7s"\r\n' +
        'Content-Description: S/MIME Cryptographic Signature\r\n\r\n',
    ),
    base64Lines(cms),
  ]);
  const boundary = freshBoundary(content, sigPart);
  return Buffer.concat([
    Buffer.from(
      `Content-Type: multipart/signed; protocol="application/pkcs7-signature";\r\n micalg=sha-256; boundary="${boundary}"\r\n\r\n`,
    ),
    buildMultipartBody(boundary, [content, sigPart], 'This is an S/MIME signed message'),
  ]);
}

/** A recipient info carrying the content-encryption key to one certificate (RSA or EC). */
function recipientInfo(certDer: Uint8Array, cek: Buffer): pkijs.RecipientInfo {
  const cert = parseCertificate(certDer);
  const ias = () => new pkijs.IssuerAndSerialNumber({ issuer: cert.issuer, serialNumber: cert.serialNumber });
  const spki = Buffer.from(cert.subjectPublicKeyInfo.toSchema().toBER());
  const publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  if (publicKey.asymmetricKeyType === 'rsa') {
    const encrypted = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, cek);
    return new pkijs.RecipientInfo({
      variant: 1,
      value: new pkijs.KeyTransRecipientInfo({
        version: 0,
        rid: ias(),
        keyEncryptionAlgorithm: alg(OID.rsaEncryption, new asn1js.Null()),
        encryptedKey: new asn1js.OctetString({ valueHex: ab(encrypted) }),
      }),
    });
  }
  if (publicKey.asymmetricKeyType === 'ec') {
    const namedCurve = publicKey.asymmetricKeyDetails?.namedCurve;
    if (!namedCurve) throw new CmsError('the recipient EC key names no curve');
    const eph = generateKeyPairSync('ec', { namedCurve });
    const z = diffieHellman({ privateKey: eph.privateKey, publicKey });
    const wrapAlg = alg(OID.aes256Wrap);
    const suppPub = Buffer.alloc(4);
    suppPub.writeUInt32BE(256);
    const sharedInfo = new pkijs.ECCCMSSharedInfo({
      keyInfo: wrapAlg,
      suppPubInfo: new asn1js.OctetString({ valueHex: ab(suppPub) }),
    });
    const kek = x963Kdf('sha256', z, Buffer.from(sharedInfo.toSchema().toBER()), 32);
    const w = createCipheriv('id-aes256-wrap', kek, Buffer.from('A6A6A6A6A6A6A6A6', 'hex'));
    const wrapped = Buffer.concat([w.update(cek), w.final()]);
    // the ephemeral public key as an ECPoint; its curve is the recipient's (parameters absent, RFC 5753 §3.1.1)
    const ephSpki = pkijs.PublicKeyInfo.fromBER(ab(eph.publicKey.export({ format: 'der', type: 'spki' })));
    return new pkijs.RecipientInfo({
      variant: 2,
      value: new pkijs.KeyAgreeRecipientInfo({
        version: 3,
        originator: new pkijs.OriginatorIdentifierOrKey({
          variant: 3,
          value: new pkijs.OriginatorPublicKey({
            algorithm: alg(OID.ecPublicKey),
            publicKey: ephSpki.subjectPublicKey,
          }),
        }),
        keyEncryptionAlgorithm: alg(OID.ecdhSha256Kdf, wrapAlg.toSchema()),
        recipientEncryptedKeys: new pkijs.RecipientEncryptedKeys({
          encryptedKeys: [
            new pkijs.RecipientEncryptedKey({
              rid: new pkijs.KeyAgreeRecipientIdentifier({ variant: 1, value: ias() }),
              encryptedKey: new asn1js.OctetString({ valueHex: ab(wrapped) }),
            }),
          ],
        }),
      }),
    });
  }
  throw new CmsError(`cannot encrypt to a ${publicKey.asymmetricKeyType ?? 'unknown'} key`);
}

interface EncryptedContent {
  /** authEnveloped-data (AES-256-GCM) or enveloped-data (AES-256-CBC) */
  gcm: boolean;
  cek: Buffer;
  eci: pkijs.EncryptedContentInfo;
  mac: Buffer | null;
}

/** Encrypts `content` once under a fresh AES-256 key (GCM: 12-byte nonce, 16-byte tag). */
function encryptContent(content: Buffer, gcm: boolean): EncryptedContent {
  const cek = randomBytes(32);
  if (gcm) {
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', cek, nonce, { authTagLength: 16 });
    const ciphertext = Buffer.concat([c.update(content), c.final()]);
    const params = new asn1js.Sequence({
      value: [new asn1js.OctetString({ valueHex: ab(nonce) }), new asn1js.Integer({ value: 16 })],
    });
    return {
      gcm,
      cek,
      mac: c.getAuthTag(),
      eci: new pkijs.EncryptedContentInfo({
        contentType: OID.data,
        contentEncryptionAlgorithm: alg(OID.aes256Gcm, params),
        encryptedContent: new asn1js.OctetString({ valueHex: ciphertext }),
        // one primitive OCTET STRING: pkijs would copy it into 1 KB pieces byte by byte
        disableSplit: true,
      }),
    };
  }
  const iv = randomBytes(16);
  const c = createCipheriv('aes-256-cbc', cek, iv);
  const ciphertext = Buffer.concat([c.update(content), c.final()]);
  return {
    gcm,
    cek,
    mac: null,
    eci: new pkijs.EncryptedContentInfo({
      contentType: OID.data,
      contentEncryptionAlgorithm: alg(OID.aes256Cbc, new asn1js.OctetString({ valueHex: ab(iv) })),
      encryptedContent: new asn1js.OctetString({ valueHex: ciphertext }),
      disableSplit: true,
    }),
  };
}

/** The CMS ContentInfo (DER) of `enc` for these recipient certificates (RSA or EC), one info each. */
function envelope(enc: EncryptedContent, recipients: readonly Uint8Array[]): Buffer {
  if (!recipients.length) throw new CmsError('no recipient certificates given');
  const infos = recipients.map((r) => recipientInfo(r, enc.cek));
  const env = new pkijs.EnvelopedData({
    // RFC 5652 §6.1: 2 when any recipient info has a version other than 0 (key agreement: 3)
    version: infos.some((i) => i.variant === 2) ? 2 : 0,
    recipientInfos: infos,
    encryptedContentInfo: enc.eci,
  });
  if (!enc.gcm) {
    const info = new pkijs.ContentInfo({ contentType: OID.envelopedData, content: env.toSchema() });
    return Buffer.from(info.toSchema().toBER());
  }
  // AuthEnvelopedData (RFC 5083 §2.1): version 0, recipientInfos and the encrypted content info as
  // in EnvelopedData (taken from its schema), no authAttrs, then the MAC.
  const [, recipientInfos, eci] = (env.toSchema() as asn1js.Sequence).valueBlock.value;
  const auth = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 0 }),
      recipientInfos!,
      eci!,
      new asn1js.OctetString({ valueHex: ab(enc.mac!) }),
    ],
  });
  const info = new pkijs.ContentInfo({ contentType: OID.authEnvelopedData, content: auth });
  return Buffer.from(info.toSchema().toBER());
}

/** The application/pkcs7-mime entity (headers, blank line, base64 body) for an envelope. */
function pkcs7MimeEntity(cms: Buffer, gcm: boolean): Buffer {
  const type = gcm ? 'authEnveloped-data' : 'enveloped-data';
  return Buffer.concat([
    Buffer.from(
      `Content-Type: application/pkcs7-mime; smime-type=${type}; name="smime.p7m"\r\n` +
        'Content-Transfer-Encoding: base64\r\n' +
        'Content-Disposition: attachment; filename="smime.p7m"\r\n' +
        'Content-Description: S/MIME Encrypted Message\r\n\r\n',
    ),
    base64Lines(cms),
  ]);
}

export interface SmimeCopiesOptions {
  signer: SmimeSigner;
  /** one entry per copy: its recipients' certificates (add the sender's own to read the Sent copy) */
  copies: readonly { recipients: readonly Uint8Array[]; gcm: boolean }[];
  /** signing time (tests) */
  date?: Date;
}

/**
 * Sign-then-encrypt a whole message for several copies (RFC 8551 §3.7): the content entity is
 * signed once (multipart/signed) and that entity encrypted per copy to that copy's certificates.
 * Each copy keeps the transport headers (Bcc and X-Lockbridge-* dropped) in front of MIME-Version
 * and the application/pkcs7-mime entity. The Subject stays visible (S/MIME clients show it so).
 */
export function smimeCopies(raw: Buffer, o: SmimeCopiesOptions): Buffer[] {
  if (!o.copies.length) return [];
  const { transport, entity } = splitMessage(raw);
  const kept = transport
    .filter((h) => h.lname !== 'bcc' && !h.lname.startsWith('x-lockbridge-'))
    .map(rawField);
  const signed = signEntity(entity, o.signer, o.date);
  const byCipher = new Map<boolean, EncryptedContent>();
  return o.copies.map((c) => {
    let enc = byCipher.get(c.gcm);
    if (!enc) byCipher.set(c.gcm, (enc = encryptContent(signed, c.gcm)));
    const part = pkcs7MimeEntity(envelope(enc, c.recipients), c.gcm);
    return Buffer.concat([...kept, Buffer.from('MIME-Version: 1.0\r\n'), part]);
  });
}
