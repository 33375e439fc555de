/**
 * S/MIME (RFC 8551) reading: CMS (RFC 5652) enveloped-data, authEnveloped-data (RFC 5083, AES-GCM
 * per RFC 5084) and signed-data, for decrypt.ts. The structures are parsed with pkijs/asn1js (no
 * ASN.1 of our own); the primitives are node:crypto's (RSA PKCS#1 v1.5 and OAEP key transport,
 * ECDH + the X9.63 KDF + AES key wrap per RFC 5753, AES-CBC/GCM content), signature checks and
 * certificate paths pkijs's (WebCrypto).
 *
 * Pure: bytes in, results out; no I/O.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import {
  constants,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  privateDecrypt,
} from 'node:crypto';
import { OID } from './cms-oids.ts';

/** Content-encryption algorithms: OID → node cipher, key length, mode. */
const CONTENT_CIPHERS: Record<string, { cipher: string; keyLen: number; gcm: boolean }> = {
  '2.16.840.1.101.3.4.1.2': { cipher: 'aes-128-cbc', keyLen: 16, gcm: false },
  '2.16.840.1.101.3.4.1.22': { cipher: 'aes-192-cbc', keyLen: 24, gcm: false },
  '2.16.840.1.101.3.4.1.42': { cipher: 'aes-256-cbc', keyLen: 32, gcm: false },
  '1.2.840.113549.3.7': { cipher: 'des-ede3-cbc', keyLen: 24, gcm: false },
  '2.16.840.1.101.3.4.1.6': { cipher: 'aes-128-gcm', keyLen: 16, gcm: true },
  '2.16.840.1.101.3.4.1.26': { cipher: 'aes-192-gcm', keyLen: 24, gcm: true },
  '2.16.840.1.101.3.4.1.46': { cipher: 'aes-256-gcm', keyLen: 32, gcm: true },
};
/** AES key wrap (RFC 3394) OIDs → node cipher. */
const KEY_WRAPS: Record<string, { cipher: string; keyLen: number }> = {
  '2.16.840.1.101.3.4.1.5': { cipher: 'id-aes128-wrap', keyLen: 16 },
  '2.16.840.1.101.3.4.1.25': { cipher: 'id-aes192-wrap', keyLen: 24 },
  '2.16.840.1.101.3.4.1.45': { cipher: 'id-aes256-wrap', keyLen: 32 },
};
/** ECDH key agreement schemes (RFC 5753, RFC 8418 §2) → the X9.63 KDF hash. */
const ECDH_KDF: Record<string, string> = {
  '1.3.133.16.840.63.0.2': 'sha1', // dhSinglePass-stdDH-sha1kdf-scheme
  '1.3.132.1.11.0': 'sha224',
  '1.3.132.1.11.1': 'sha256',
  '1.3.132.1.11.2': 'sha384',
  '1.3.132.1.11.3': 'sha512',
  '1.3.133.16.840.63.0.3': 'sha1', // cofactor variants: the cofactor is 1 on the NIST curves
  '1.3.132.1.14.0': 'sha224',
  '1.3.132.1.14.1': 'sha256',
  '1.3.132.1.14.2': 'sha384',
  '1.3.132.1.14.3': 'sha512',
};
const RSA_OAEP_HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** The user's own certificate with its private key (PKCS#8), both DER. */
export interface SmimeIdentity {
  certificate: Uint8Array;
  privateKey: Uint8Array;
}

/** What S/MIME reading needs from the caller (decrypt.ts `DecryptOptions.smime`). */
export interface SmimeMaterial {
  identities: readonly SmimeIdentity[];
  /** certificates the user holds for the sender (learned from signed mail, imported), DER */
  knownCertificates?: readonly Uint8Array[];
  /** trust anchors, DER: certificates the user trusts (and the system roots when given) */
  trustAnchors?: readonly Uint8Array[];
  /** no certificate is known for the From address: a signer certificate naming it is taken (first contact) */
  firstContact?: boolean;
  /** the time certificates are checked at (ms; default now) */
  now?: number;
  /** certificate revocation lists the user imported (DER); those a message carries count too */
  crls?: readonly Uint8Array[];
}

export type CmsKind = 'enveloped' | 'auth-enveloped' | 'signed' | 'compressed' | 'other';

export class CmsError extends Error {}

function parseContentInfo(der: Uint8Array): pkijs.ContentInfo {
  const asn = asn1js.fromBER(toArrayBuffer(der));
  if (asn.offset === -1 || asn.result.error) throw new CmsError('garbled CMS: not a BER structure');
  try {
    return new pkijs.ContentInfo({ schema: asn.result });
  } catch {
    throw new CmsError('garbled CMS: not a ContentInfo');
  }
}

/** Which CMS content type `der` holds (throws CmsError on garbage). */
export function cmsKind(der: Uint8Array): CmsKind {
  switch (parseContentInfo(der).contentType) {
    case OID.envelopedData:
      return 'enveloped';
    case OID.authEnvelopedData:
      return 'auth-enveloped';
    case OID.signedData:
      return 'signed';
    case OID.compressedData:
      return 'compressed';
    default:
      return 'other';
  }
}

export type OpenResult =
  { ok: true; data: Buffer; auth: boolean; cipher: string } | { ok: false; reason: string };

/** Decrypt enveloped-data or authEnveloped-data with whichever of the user's identities it is for. */
export async function openEnveloped(
  der: Uint8Array,
  identities: readonly SmimeIdentity[],
): Promise<OpenResult> {
  try {
    const info = parseContentInfo(der);
    const auth = info.contentType === OID.authEnvelopedData;
    let env: pkijs.EnvelopedData;
    let mac: Buffer | null = null;
    let aad: Buffer | null = null;
    if (auth) {
      // AuthEnvelopedData (RFC 5083 §2.1) has EnvelopedData's first fields, then authAttrs [1] and
      // the MAC; those fields are read as an EnvelopedData.
      const items = (info.content as asn1js.Sequence).valueBlock.value;
      const head: asn1js.AsnType[] = [];
      for (const item of items) {
        const tag = item.idBlock;
        if (tag.tagClass === 3 && tag.tagNumber === 1) {
          aad = Buffer.from(new asn1js.Set({ value: (item as asn1js.Constructed).valueBlock.value }).toBER());
        } else if (tag.tagClass === 3) continue;
        else if (item instanceof asn1js.OctetString && head.length >= 3) mac = octets(item);
        else head.push(item);
      }
      if (!mac) throw new CmsError('authEnveloped-data without a MAC');
      env = new pkijs.EnvelopedData({ schema: new asn1js.Sequence({ value: head }) });
    } else if (info.contentType === OID.envelopedData) {
      env = new pkijs.EnvelopedData({ schema: info.content });
    } else throw new CmsError('not enveloped-data');

    const eci = env.encryptedContentInfo;
    const alg = eci.contentEncryptionAlgorithm;
    const cipher = CONTENT_CIPHERS[alg.algorithmId];
    if (!cipher) throw new CmsError(`unsupported content encryption algorithm ${alg.algorithmId}`);
    if (cipher.gcm !== auth)
      throw new CmsError(auth ? 'authEnveloped-data needs an AEAD cipher' : 'GCM outside authEnveloped-data');
    const ciphertext = eci.encryptedContent ? octets(eci.encryptedContent) : null;
    if (!ciphertext) throw new CmsError('no encrypted content (detached content is not supported)');

    const cek = unwrapForUs(env, identities);
    if (!cek) return { ok: false, reason: 'no S/MIME certificate of yours is among the recipients' };
    if (cek.length !== cipher.keyLen) throw new CmsError('decryption failed: wrong content key length');
    if (cipher.gcm) {
      const params = alg.algorithmParams as asn1js.Sequence;
      const [nonceAsn, icvAsn] = params.valueBlock.value;
      const nonce = octets(nonceAsn as asn1js.OctetString);
      const icvLen = icvAsn instanceof asn1js.Integer ? icvAsn.valueBlock.valueDec : 12;
      if (mac!.length !== icvLen) throw new CmsError('authEnveloped-data MAC length mismatch');
      const d = createDecipheriv(cipher.cipher as 'aes-256-gcm', cek, nonce, { authTagLength: icvLen });
      if (aad) d.setAAD(aad);
      d.setAuthTag(mac!);
      const data = Buffer.concat([d.update(ciphertext), d.final()]);
      return { ok: true, data, auth: true, cipher: cipher.cipher };
    }
    const iv = octets(alg.algorithmParams as asn1js.OctetString);
    const d = createDecipheriv(cipher.cipher, cek, iv);
    const data = Buffer.concat([d.update(ciphertext), d.final()]);
    return { ok: true, data, auth: false, cipher: cipher.cipher };
  } catch (err) {
    return { ok: false, reason: reasonOf(err, 'S/MIME decryption failed') };
  }
}

function reasonOf(err: unknown, prefix: string): string {
  if (err instanceof CmsError) return err.message;
  const msg = (err as Error)?.message ?? String(err);
  // node's messages name no content; keep them short
  return `${prefix}: ${msg.replace(/\s+/g, ' ').slice(0, 120)}`;
}

/** The content-encryption key, from the first recipient info addressed to one of our identities. */
function unwrapForUs(env: pkijs.EnvelopedData, identities: readonly SmimeIdentity[]): Buffer | null {
  const ids = identities.map((i) => ({ cert: parseCertificate(i.certificate), key: i.privateKey }));
  for (const ri of env.recipientInfos) {
    if (ri.variant === 1) {
      const kt = ri.value as pkijs.KeyTransRecipientInfo;
      const me = ids.find((i) => matchesRid(kt.rid, i.cert));
      if (!me) continue;
      const key = createPrivateKey({ key: Buffer.from(me.key), format: 'der', type: 'pkcs8' });
      const enc = octets(kt.encryptedKey);
      const algId = kt.keyEncryptionAlgorithm.algorithmId;
      if (algId === OID.rsaEncryption)
        return privateDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, enc);
      if (algId === OID.rsaOaep) {
        const p = kt.keyEncryptionAlgorithm.algorithmParams
          ? new pkijs.RSAESOAEPParams({ schema: kt.keyEncryptionAlgorithm.algorithmParams })
          : new pkijs.RSAESOAEPParams();
        const hash = RSA_OAEP_HASHES[p.hashAlgorithm.algorithmId];
        if (!hash) throw new CmsError(`unsupported RSA-OAEP hash ${p.hashAlgorithm.algorithmId}`);
        return privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, enc);
      }
      throw new CmsError(`unsupported key transport algorithm ${algId}`);
    }
    if (ri.variant === 2) {
      const ka = ri.value as pkijs.KeyAgreeRecipientInfo;
      for (const rek of ka.recipientEncryptedKeys.encryptedKeys) {
        const rid = rek.rid.variant === 1 ? rek.rid.value : (rek.rid.value as pkijs.RecipientKeyIdentifier);
        const me = ids.find((i) =>
          rek.rid.variant === 1
            ? matchesRid(rid, i.cert)
            : matchesSki((rid as pkijs.RecipientKeyIdentifier).subjectKeyIdentifier, i.cert),
        );
        if (!me) continue;
        return ecdhUnwrap(ka, octets(rek.encryptedKey), me.cert, me.key);
      }
    }
  }
  return null;
}

function ecdhUnwrap(
  ka: pkijs.KeyAgreeRecipientInfo,
  wrapped: Buffer,
  cert: pkijs.Certificate,
  pkcs8: Uint8Array,
): Buffer {
  const kdfHash = ECDH_KDF[ka.keyEncryptionAlgorithm.algorithmId];
  if (!kdfHash)
    throw new CmsError(`unsupported key agreement algorithm ${ka.keyEncryptionAlgorithm.algorithmId}`);
  if (ka.originator.variant !== 3) throw new CmsError('key agreement without an ephemeral originator key');
  const orig = ka.originator.value as pkijs.OriginatorPublicKey;
  // The originator key's curve is the recipient's when its parameters are absent (RFC 5753 §3.1.1).
  const algorithm = new pkijs.AlgorithmIdentifier({
    algorithmId: orig.algorithm.algorithmId,
    algorithmParams: orig.algorithm.algorithmParams ?? cert.subjectPublicKeyInfo.algorithm.algorithmParams,
  });
  const spki = new pkijs.PublicKeyInfo({ algorithm, subjectPublicKey: orig.publicKey });
  const publicKey = createPublicKey({
    key: Buffer.from(spki.toSchema().toBER()),
    format: 'der',
    type: 'spki',
  });
  const privateKey = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  const z = diffieHellman({ privateKey, publicKey });
  const wrapAlg = new pkijs.AlgorithmIdentifier({ schema: ka.keyEncryptionAlgorithm.algorithmParams });
  const wrap = KEY_WRAPS[wrapAlg.algorithmId];
  if (!wrap) throw new CmsError(`unsupported key wrap algorithm ${wrapAlg.algorithmId}`);
  const suppPub = Buffer.alloc(4);
  suppPub.writeUInt32BE(wrap.keyLen * 8);
  const sharedInfo = new pkijs.ECCCMSSharedInfo({
    keyInfo: wrapAlg,
    ...(ka.ukm ? { entityUInfo: ka.ukm } : {}),
    suppPubInfo: new asn1js.OctetString({ valueHex: suppPub }),
  });
  const kek = x963Kdf(kdfHash, z, Buffer.from(sharedInfo.toSchema().toBER()), wrap.keyLen);
  const d = createDecipheriv(wrap.cipher, kek, Buffer.from('A6A6A6A6A6A6A6A6', 'hex'));
  return Buffer.concat([d.update(wrapped), d.final()]);
}

/** ANSI X9.63 KDF (SEC 1 §3.6.1), as RFC 5753 §3.1.2 uses it. */
export function x963Kdf(hash: string, z: Buffer, sharedInfo: Buffer, len: number): Buffer {
  const out: Buffer[] = [];
  let have = 0;
  for (let counter = 1; have < len; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(hash).update(z).update(c).update(sharedInfo).digest();
    out.push(block);
    have += block.length;
  }
  return Buffer.concat(out).subarray(0, len);
}

function matchesRid(rid: unknown, cert: pkijs.Certificate): boolean {
  if (rid instanceof pkijs.IssuerAndSerialNumber)
    return rid.issuer.isEqual(cert.issuer) && rid.serialNumber.isEqual(cert.serialNumber);
  if (rid instanceof asn1js.OctetString || (rid as asn1js.AsnType)?.idBlock?.tagClass === 3)
    return matchesSki(rid as asn1js.OctetString, cert);
  return false;
}

function matchesSki(ski: asn1js.OctetString, cert: pkijs.Certificate): boolean {
  const ext = cert.extensions?.find((e) => e.extnID === '2.5.29.14');
  if (!ext) return false;
  const own = Buffer.from((ext.parsedValue as asn1js.OctetString).valueBlock.valueHexView);
  return own.equals(Buffer.from(ski.valueBlock.valueHexView));
}

/** The bytes of an OCTET STRING, primitive or constructed (BER). */
function octets(os: asn1js.OctetString | asn1js.BaseBlock): Buffer {
  const block = os as asn1js.OctetString;
  if (block.idBlock.isConstructed) {
    const parts = (block.valueBlock.value as asn1js.BaseBlock[]) ?? [];
    return Buffer.concat(parts.map((p) => octets(p)));
  }
  return Buffer.from(block.valueBlock.valueHexView);
}

function toArrayBuffer(u: Uint8Array): ArrayBuffer {
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
}

export function parseCertificate(der: Uint8Array): pkijs.Certificate {
  return pkijs.Certificate.fromBER(toArrayBuffer(der));
}

/** Parsed trust anchors by SHA-256 of their DER (the same anchors come with every message). */
const anchorCache = new Map<string, pkijs.Certificate>();
function parseCached(der: Uint8Array): pkijs.Certificate {
  const key = createHash('sha256').update(der).digest('base64');
  let cert = anchorCache.get(key);
  if (!cert) {
    if (anchorCache.size >= 2000) anchorCache.clear();
    cert = parseCertificate(der);
    anchorCache.set(key, cert);
  }
  return cert;
}

/** Facts about a certificate: SHA-256 fingerprint, email addresses (SAN, else subject), validity. */
export interface CertFacts {
  fingerprint: string;
  emails: string[];
  subject: string;
  /** the issuer's common name (else its organisation); the subject's own for a self-signed one */
  issuer: string;
  notBefore: number;
  notAfter: number;
  isCa: boolean;
}

export function certFacts(der: Uint8Array): CertFacts {
  return factsOf(parseCertificate(der), der);
}

function factsOf(cert: pkijs.Certificate, der?: Uint8Array): CertFacts {
  const bytes = der ?? new Uint8Array(cert.toSchema().toBER());
  const emails = new Set<string>();
  const san = cert.extensions?.find((e) => e.extnID === OID.subjectAltName)?.parsedValue as
    pkijs.AltName | undefined;
  for (const n of san?.altNames ?? []) if (n.type === 1) emails.add(String(n.value).toLowerCase());
  // RFC 8550 §3: the subject's emailAddress counts when the SAN has none
  if (!emails.size)
    for (const tv of cert.subject.typesAndValues)
      if (tv.type === OID.emailAddress) emails.add(String(tv.value.valueBlock.value).toLowerCase());
  const cn = cert.subject.typesAndValues.find((tv) => tv.type === '2.5.4.3');
  const issuerName =
    cert.issuer.typesAndValues.find((tv) => tv.type === '2.5.4.3') ??
    cert.issuer.typesAndValues.find((tv) => tv.type === '2.5.4.10');
  const bc = cert.extensions?.find((e) => e.extnID === '2.5.29.19')?.parsedValue as
    pkijs.BasicConstraints | undefined;
  return {
    fingerprint: createHash('sha256').update(bytes).digest('hex').toUpperCase(),
    emails: [...emails],
    subject: cn ? String(cn.value.valueBlock.value) : '',
    issuer: issuerName ? String(issuerName.value.valueBlock.value) : '',
    notBefore: cert.notBefore.value.getTime(),
    notAfter: cert.notAfter.value.getTime(),
    isCa: Boolean(bc?.cA),
  };
}

/**
 * Whether mail can be encrypted to this certificate: an RSA (rsaEncryption) or EC key, a key usage
 * that allows key encipherment (RSA) or key agreement (EC) — or none on a certificate that is not
 * a CA — and an extended key usage (when it has one) that includes emailProtection or
 * anyExtendedKeyUsage.
 */
export function canEncryptTo(der: Uint8Array): boolean {
  let cert: pkijs.Certificate;
  try {
    cert = parseCertificate(der);
  } catch {
    return false;
  }
  const algo = cert.subjectPublicKeyInfo.algorithm.algorithmId;
  const rsa = algo === OID.rsaEncryption;
  if (!rsa && algo !== '1.2.840.10045.2.1') return false;
  const ku = keyUsage(cert);
  if (ku !== null) {
    // bit 2 keyEncipherment, bit 4 keyAgreement (counted from the most significant bit)
    if (!(ku & (rsa ? 0x20 : 0x08))) return false;
  } else {
    // a CA without a key usage is for certificates, not mail (a self-signed certificate that says
    // CA:TRUE, as gpgsm makes them, is used when its key usage allows encryption)
    const bc = cert.extensions?.find((e) => e.extnID === '2.5.29.19')?.parsedValue as
      pkijs.BasicConstraints | undefined;
    if (bc?.cA) return false;
  }
  return forEmail(cert);
}

/** The first byte of the certificate's key usage bits, or null without a key usage extension. */
function keyUsage(cert: pkijs.Certificate): number | null {
  const ku = cert.extensions?.find((e) => e.extnID === '2.5.29.15')?.parsedValue as
    asn1js.BitString | undefined;
  return ku instanceof asn1js.BitString ? (ku.valueBlock.valueHexView[0] ?? 0) : null;
}

/** No extended key usage, or one that includes emailProtection or anyExtendedKeyUsage (RFC 8550 §4.4.4). */
function forEmail(cert: pkijs.Certificate): boolean {
  const eku = cert.extensions?.find((e) => e.extnID === '2.5.29.37')?.parsedValue as
    pkijs.ExtKeyUsage | undefined;
  return !eku || eku.keyPurposes.some((p) => p === '1.3.6.1.5.5.7.3.4' || p === '2.5.29.37.0');
}

/**
 * Why a certificate may not sign mail (RFC 8550 §4.4.2, §4.4.4), or null: an extended key usage
 * without emailProtection (or anyExtendedKeyUsage), or a key usage without digitalSignature or
 * nonRepudiation.
 */
function signingProblem(cert: pkijs.Certificate): string | null {
  if (!forEmail(cert)) return 'the signer certificate is not for e-mail (extended key usage)';
  const ku = keyUsage(cert);
  // bit 0 digitalSignature, bit 1 nonRepudiation
  if (ku !== null && !(ku & 0xc0)) return 'the signer certificate may not sign (key usage)';
  return null;
}

/** The issuers of `leaf` found in `pool`, nearest first (a self-signed certificate ends the chain). */
export function chainOf(leaf: Uint8Array, pool: readonly Uint8Array[]): Uint8Array[] {
  const parsed = pool.map((der) => ({ der, cert: parseCertificate(der) }));
  const out: Uint8Array[] = [];
  let cur = parseCertificate(leaf);
  while (out.length < 8 && !cur.issuer.isEqual(cur.subject)) {
    const up = parsed.find((p) => p.cert.subject.isEqual(cur.issuer) && !out.includes(p.der));
    if (!up) break;
    out.push(up.der);
    cur = up.cert;
  }
  return out;
}

/** How a valid signer certificate is trusted. */
export type SmimeTrust = 'ca' | 'known' | 'first-contact';

export interface SmimeSignature {
  signature: 'valid' | 'invalid' | 'unknown-key';
  /** SHA-256 fingerprint of the signer certificate, uppercase hex */
  signerFingerprint?: string;
  signerAddresses: string[];
  notAfter?: number;
  expired?: boolean;
  /** when the signer certificate (or a CA above it) was revoked, by a CRL at hand (ms) */
  revoked?: number;
  trust?: SmimeTrust;
  /** the signer certificate (DER), to learn it */
  signerCertificate?: Uint8Array;
  /** the algorithm OIDs the signer announces in its SMIMECapabilities signed attribute, in order */
  capabilities?: string[];
  /** why it is not valid (never content) */
  detail?: string;
}

export interface SignedOpened {
  sig: SmimeSignature;
  /** the encapsulated content of opaque signed-data (null when detached, or unreadable) */
  content: Buffer | null;
}

/**
 * Verify signed-data: over `detached` (the signed part's exact bytes) or its own encapsulated
 * content. The signer certificate is looked for in the message and in the known certificates; it
 * is then trusted through a path to a trust anchor, as a known certificate, or on first contact
 * when it names `fromAddress`. An expired signer certificate gives `invalid` (with the date), as
 * does one whose key usage or extended key usage does not allow signing mail.
 */
export async function verifySigned(
  der: Uint8Array,
  detached: Buffer | null,
  m: SmimeMaterial,
  fromAddress: string | undefined,
): Promise<SignedOpened> {
  let signed: pkijs.SignedData;
  let content: Buffer | null = null;
  try {
    const info = parseContentInfo(der);
    if (info.contentType !== OID.signedData) throw new CmsError('not signed-data');
    signed = new pkijs.SignedData({ schema: info.content });
    const e = signed.encapContentInfo.eContent;
    if (e) content = octets(e);
  } catch (err) {
    return {
      sig: { signature: 'invalid', signerAddresses: [], detail: reasonOf(err, 'garbled signed-data') },
      content: null,
    };
  }
  if (!detached && !content)
    return {
      sig: { signature: 'invalid', signerAddresses: [], detail: 'signed-data without content' },
      content,
    };
  if (!signed.signerInfos.length)
    return {
      sig: { signature: 'invalid', signerAddresses: [], detail: 'signed-data without a signer' },
      content,
    };
  const known = (m.knownCertificates ?? []).map((c) => parseCertificate(c));
  const messageCerts = (signed.certificates ?? []).filter(
    (c): c is pkijs.Certificate => c instanceof pkijs.Certificate,
  );
  signed.certificates = [...messageCerts, ...known];
  const now = new Date(m.now ?? Date.now());

  let signerCert: pkijs.Certificate | null;
  let verified = false;
  let detail: string | undefined;
  try {
    const r = await signed.verify({
      signer: 0,
      ...(detached ? { data: toArrayBuffer(detached) } : {}),
      checkChain: false,
      extendedMode: true,
    });
    signerCert = r.signerCertificate ?? null;
    verified = r.signatureVerified === true;
    if (!verified) detail = r.message;
  } catch (err) {
    const e = err as pkijs.SignedDataVerifyError;
    signerCert = e.signerCertificate ?? null;
    detail = e.message ?? String(err);
  }
  if (!signerCert)
    return {
      sig: { signature: 'unknown-key', signerAddresses: [], detail: detail ?? 'no signer certificate' },
      content,
    };
  const signerDer = new Uint8Array(signerCert.toSchema().toBER());
  const facts = factsOf(signerCert, signerDer);
  const base = {
    signerFingerprint: facts.fingerprint,
    signerAddresses: facts.emails,
    notAfter: facts.notAfter,
    signerCertificate: signerDer,
  };
  if (!verified)
    return { sig: { ...base, signature: 'invalid', detail: detail ?? 'bad signature' }, content };
  if (now.getTime() > facts.notAfter || now.getTime() < facts.notBefore)
    return {
      sig: {
        ...base,
        signature: 'invalid',
        expired: now.getTime() > facts.notAfter,
        detail:
          now.getTime() > facts.notAfter
            ? 'the signer certificate has expired'
            : 'the signer certificate is not yet valid',
      },
      content,
    };

  const notForMail = signingProblem(signerCert);
  if (notForMail) return { sig: { ...base, signature: 'invalid', detail: notForMail }, content };

  const revokedAt = await revocation(
    signerCert,
    [...messageCerts, ...known, ...(m.trustAnchors ?? []).map((c) => parseCached(c))],
    [
      ...(signed.crls ?? []).filter(
        (c): c is pkijs.CertificateRevocationList => c instanceof pkijs.CertificateRevocationList,
      ),
      ...parseCrls(m.crls ?? []),
    ],
    now.getTime(),
  );
  if (revokedAt !== null)
    return {
      sig: {
        ...base,
        signature: 'invalid',
        revoked: revokedAt,
        detail: `the signer certificate was revoked on ${new Date(revokedAt).toISOString().slice(0, 10)}`,
      },
      content,
    };

  let trust: SmimeTrust | null = null;
  // Only anchors that issued a certificate at hand can end the path: with the ~120 system roots
  // given to the chain engine every signed message took ~300 ms more (parsed once, cached, filtered).
  const issuers = [signerCert, ...messageCerts].map((c) => c.issuer);
  const anchors = (m.trustAnchors ?? [])
    .map((c) => parseCached(c))
    .filter((a) => issuers.some((i) => i.isEqual(a.subject)));
  if (anchors.length) {
    try {
      const chain = new pkijs.CertificateChainValidationEngine({
        trustedCerts: anchors,
        certs: [...messageCerts, signerCert],
        checkDate: now,
      });
      const res = await chain.verify();
      if (res.result) trust = 'ca';
      else detail = res.resultMessage;
    } catch (err) {
      detail = reasonOf(err, 'certificate path');
    }
  }
  if (!trust && known.some((k) => Buffer.from(k.toSchema().toBER()).equals(Buffer.from(signerDer))))
    trust = 'known';
  if (!trust && m.firstContact && fromAddress && facts.emails.includes(fromAddress.toLowerCase()))
    trust = 'first-contact';
  if (!trust)
    return {
      sig: { ...base, signature: 'unknown-key', detail: detail ?? 'the signer certificate is not trusted' },
      content,
    };
  const capabilities = announced(signed.signerInfos[0]!);
  return { sig: { ...base, signature: 'valid', trust, ...(capabilities ? { capabilities } : {}) }, content };
}

/** The capability OIDs of a signer's SMIMECapabilities signed attribute (RFC 8551 §2.5.2), if any. */
function announced(si: pkijs.SignerInfo): string[] | undefined {
  const attr = si.signedAttrs?.attributes.find((a) => a.type === OID.smimeCapabilities);
  const seq = attr?.values[0] as asn1js.Sequence | undefined;
  if (!(seq instanceof asn1js.Sequence)) return undefined;
  const out: string[] = [];
  for (const cap of seq.valueBlock.value) {
    const id = (cap as asn1js.Sequence).valueBlock?.value?.[0];
    if (id instanceof asn1js.ObjectIdentifier) out.push(id.valueBlock.toString());
  }
  return out;
}

function parseCrls(ders: readonly Uint8Array[]): pkijs.CertificateRevocationList[] {
  const out: pkijs.CertificateRevocationList[] = [];
  for (const der of ders) {
    try {
      out.push(pkijs.CertificateRevocationList.fromBER(toArrayBuffer(der)));
    } catch {
      // an unreadable CRL revokes nothing
    }
  }
  return out;
}

/** Facts about a CRL (for import): its issuer's name, this/next update, how many it revokes. */
export function crlFacts(der: Uint8Array): {
  issuer: string;
  thisUpdate: number;
  nextUpdate?: number;
  revoked: number;
} {
  const crl = pkijs.CertificateRevocationList.fromBER(toArrayBuffer(der));
  const cn =
    crl.issuer.typesAndValues.find((tv) => tv.type === '2.5.4.3') ??
    crl.issuer.typesAndValues.find((tv) => tv.type === '2.5.4.10');
  return {
    issuer: cn ? String(cn.value.valueBlock.value) : '',
    thisUpdate: crl.thisUpdate.value.getTime(),
    ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate.value.getTime() } : {}),
    revoked: crl.revokedCertificates?.length ?? 0,
  };
}

/**
 * When the certificate `der` (or a CA above it among `pool`, DER) was revoked by one of `crls`
 * (DER) that its issuer signed, at or before `now` (ms); null when none says so. The check a
 * signer certificate gets in verifySigned, for a certificate that came without a signature (one
 * found in a directory).
 */
export function revokedAt(
  der: Uint8Array,
  pool: readonly Uint8Array[],
  crls: readonly Uint8Array[],
  now: number,
): Promise<number | null> {
  return revocation(parseCertificate(der), pool.map(parseCached), parseCrls(crls), now);
}

/**
 * When `cert` or a CA above it (found among `pool`) was revoked, by one of `crls` that its issuer
 * signed (a CRL whose signature does not verify with the issuer's key counts for nothing), at or
 * before `now`; null when none says so.
 */
async function revocation(
  cert: pkijs.Certificate,
  pool: readonly pkijs.Certificate[],
  crls: readonly pkijs.CertificateRevocationList[],
  now: number,
): Promise<number | null> {
  if (!crls.length) return null;
  let cur = cert;
  for (let depth = 0; depth < 8; depth++) {
    const issuer = pool.find((p) => p.subject.isEqual(cur.issuer));
    if (!issuer) return null;
    for (const crl of crls) {
      if (!crl.issuer.isEqual(cur.issuer)) continue;
      const entry = crl.revokedCertificates?.find((r) => r.userCertificate.isEqual(cur.serialNumber));
      if (!entry) continue;
      const at = entry.revocationDate.value.getTime();
      if (at > now) continue;
      const signedByIssuer = await crl.verify({ issuerCertificate: issuer }).catch(() => false);
      if (signedByIssuer) return at;
    }
    if (issuer.subject.isEqual(issuer.issuer)) return null;
    cur = issuer;
  }
  return null;
}
