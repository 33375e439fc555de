/**
 * Decrypt and verify a raw message (standards §1, §2, §5.11–5.16). Only the root (or sole)
 * encrypted part is ever decrypted; a failure releases no plaintext; signature status is only
 * given for whole-message signatures. The result feeds served-message.ts.
 */
import type { PrivateKey, PublicKey } from 'openpgp';
import type { KeyInput } from './keys-input.ts';
import { toPrivateKeys, toPublicKeys } from './keys-input.ts';
import type { HeaderField } from './protected-headers.ts';
import { readProtectedHeaders, shownInnerHeaders } from './protected-headers.ts';
import type { SignatureOutcome, SignatureStatus } from './signature-result.ts';
import { evaluateSignatures, NO_SIGNATURE } from './signature-result.ts';
import { decryptPgp, verifyDetached } from './pgp-ops.ts';
import { parseCleartext } from './cleartext.ts';
import type { Structure } from './detect-structure.ts';
import { detectStructure } from './detect-structure.ts';
import { mediaType } from '../mime/params.ts';
import { parseEntity, walkEntity } from '../mime/entity.ts';
import { normalizeCrlf } from '../mime/crlf.ts';
import { decodeTransfer } from '../mime/transfer-encoding.ts';
import type { SmimeMaterial, SmimeSignature, SmimeTrust } from './smime.ts';
import { cmsKind, openEnveloped, verifySigned } from './smime.ts';

export type { HeaderField } from './protected-headers.ts';
export type { SignatureStatus } from './signature-result.ts';

export interface DecryptOptions {
  /** The user's unlocked private keys. */
  decryptionKeys: readonly KeyInput[];
  /** Public keys that may have signed (the sender's known keys). */
  verificationKeys?: readonly KeyInput[];
  /**
   * Asked once when no given key matches a signature: the signer key IDs (uppercase 16-hex) and
   * the armored public keys attached to the message (application/pgp-keys), so the caller can
   * answer from its whole keyring and decide whether an attached key may vouch for the sender.
   */
  lookupVerificationKeys?: (keyIds: string[], attachedKeys: string[]) => Promise<readonly KeyInput[]>;
  /** Decompression bound in bytes (default MAX_DECOMPRESSED_BYTES). */
  maxDecompressedSize?: number;
  /** S/MIME: the user's certificates with keys, the sender's known certificates, trust anchors. */
  smime?: SmimeMaterial;
}

export type MessageForm =
  | 'pgp-mime'
  | 'pgp-mime-exchange'
  | 'inline'
  | 'cleartext-signed'
  | 'pgp-mime-signed'
  | 'smime-enveloped'
  | 'smime-auth-enveloped'
  | 'smime-signed-opaque'
  | 'smime-signed'
  | 'plain';

/** What S/MIME reading adds to a result (DecryptResult.smime). */
export interface SmimeFacts {
  /** the signer certificate, base64 DER (to learn it) */
  signerCertificate?: string;
  /** when the signer certificate expires (ms) */
  notAfter?: number;
  /** the signer certificate has expired (the signature is then invalid) */
  expired?: boolean;
  /** when the signer certificate was revoked, by a CRL the message carries or the user imported (ms) */
  revoked?: number;
  /** how the signer certificate is trusted: a path to a trust anchor, a known certificate, first contact */
  trust?: SmimeTrust;
  /** the content cipher (e.g. aes-256-gcm) */
  cipher?: string;
  /** what the signer announces in SMIMECapabilities (algorithm OIDs, preferred first) */
  capabilities?: string[];
}

export interface DecryptResult {
  status: 'encrypted' | 'none' | 'failed';
  /** why it failed, or a note for 'none' (e.g. a nested encrypted part left encrypted) */
  reason?: string;
  signature: SignatureStatus;
  /** uppercase hex primary fingerprint of the signer's key (when a key matched) */
  signerFingerprint?: string;
  /** uppercase 16-hex key IDs of the signatures found */
  signerKeyIds: string[];
  /** lowercase addresses in the signer key's user IDs */
  signerAddresses: string[];
  /** true when the signature is valid but no signer UID address equals the From address shown */
  signerMismatch: boolean;
  form: MessageForm;
  /** 'v1' (Thunderbird), 'cipher' / 'clear' (RFC 9788), or null */
  headerProtection: 'v1' | 'cipher' | 'clear' | null;
  /** protected header fields, as found in the payload */
  innerHeaders: HeaderField[];
  /**
   * true when a valid signature covers the protected fields and their From address agrees with
   * the outer From: then they all replace the outer ones (README "What your mail client is shown")
   */
  headersAuthenticated: boolean;
  /**
   * the protected fields the served message shows instead of the outer ones: all of
   * `innerHeaders` when authenticated; from an encrypted payload otherwise only fields that name
   * no one (Subject, Date, Message-ID, In-Reply-To, References); else none
   */
  shownHeaders: HeaderField[];
  /** the address of a validly signed protected From that differs from the outer From (not shown) */
  protectedFromMismatch?: string;
  /**
   * encrypted: the decrypted MIME entity (content headers + body; protected fields, legacy
   * display parts and an inner signature layer removed), CRLF. none: the message itself, CRLF.
   * failed: empty.
   */
  mime: Buffer;
  /** Autocrypt-Gossip header values from inside the encryption */
  gossip: string[];
  /** armored keys attached as application/pgp-keys parts */
  attachedKeys: string[];
  /** things worth logging that do not change the outcome (e.g. a micalg mismatch); no content */
  warnings: string[];
  /** which standard the message uses (absent for plain mail) */
  standard?: 'openpgp' | 'smime';
  /** S/MIME signer certificate and cipher facts */
  smime?: SmimeFacts;
  /**
   * a signed-only message whose content was unwrapped from its signature (opaque S/MIME
   * signed-data): `mime` is served like a decrypted entity
   */
  unwrapped?: boolean;
  /** internal: the S/MIME layer holds OpenPGP (decryptMessage reads it next; never returned) */
  innerOpenPgp?: boolean;
}

interface Keys {
  dec: PrivateKey[];
  ver: PublicKey[];
  lookup: DecryptOptions['lookupVerificationKeys'];
  looked: boolean;
  /** armored public keys attached to the message, offered to the lookup */
  attached: string[];
  maxDecompressed: number | undefined;
}

/**
 * The result for plain mail (no OpenPGP or S/MIME structure at its root: the message itself, CRLF,
 * with the keys attached to it), else null. Needs no key: the worker pool answers small plain
 * messages with it on the calling thread (worker-pool.ts).
 */
export function plainResult(raw: Buffer, structure: Structure = detectStructure(raw)): DecryptResult | null {
  if (structure.kind !== 'plain') return null;
  const msg = normalizeCrlf(raw);
  const r = base('none', 'plain', msg);
  if (structure.nestedEncrypted)
    r.reason =
      'an encrypted part inside a larger message was left encrypted (only whole-message encryption is decrypted)';
  r.attachedKeys = findAttachedKeys(msg);
  return r;
}

export async function decryptMessage(raw: Buffer, opts: DecryptOptions): Promise<DecryptResult> {
  const keys: Keys = {
    dec: await toPrivateKeys(opts.decryptionKeys),
    ver: await toPublicKeys(opts.verificationKeys),
    lookup: opts.lookupVerificationKeys,
    looked: false,
    attached: [],
    maxDecompressed: opts.maxDecompressedSize,
  };
  const structure = detectStructure(raw);
  if (structure.kind === 'plain') return plainResult(raw, structure)!;
  const msg = normalizeCrlf(raw);
  const outerFrom = parseEntity(msg).headers.find((h) => h.lname === 'from')?.value;
  switch (structure.kind) {
    case 'pgp-mime':
    case 'inline-encrypted':
      return decryptStructure(structure, keys, outerFrom);
    case 'pgp-mime-malformed':
      return failed(structure.reason, 'pgp-mime');
    case 'inline-signed': {
      const sig = await withLookup(keys, (ver) => cleartextOutcome(structure.bytes, ver));
      return finish(base('none', 'cleartext-signed', msg), sig, outerFrom);
    }
    case 'pgp-mime-signed': {
      keys.attached = findAttachedKeys(msg);
      const sig = await verifySignedPart(structure.signedPart, structure.signature, keys);
      const prot = readProtectedHeaders(normalizeCrlf(structure.signedPart));
      const r = base('none', 'pgp-mime-signed', msg);
      if (prot.scheme) {
        r.headerProtection = prot.scheme;
        r.innerHeaders = prot.fields;
      }
      r.attachedKeys = keys.attached;
      if (sig.micalg && structure.micalg && sig.micalg !== structure.micalg.toLowerCase())
        r.warnings.push(`micalg ${structure.micalg} differs from the signature's hash (${sig.micalg})`);
      return finish(r, sig, outerFrom);
    }
    case 'smime':
    case 'smime-signed': {
      const r = await readSmime(msg, structure, opts.smime ?? { identities: [] }, outerFrom);
      return r.innerOpenPgp ? openPgpInside(r, opts, outerFrom) : r;
    }
  }
}

async function decryptStructure(
  s: Extract<Structure, { kind: 'pgp-mime' | 'inline-encrypted' }>,
  keys: Keys,
  outerFrom: string | undefined,
): Promise<DecryptResult> {
  const form: MessageForm =
    s.kind === 'inline-encrypted' ? 'inline' : s.exchange ? 'pgp-mime-exchange' : 'pgp-mime';
  let out = await decryptPgp(s.armored, keys.dec, keys.ver, keys.maxDecompressed);
  if (!out.ok) return failed(out.reason, form);
  // keys attached inside the encryption may vouch for its signature (the lookup decides)
  if (s.kind === 'pgp-mime') keys.attached = findAttachedKeys(out.data);
  let sig = await evaluateSignatures(out.signatures, keys.ver);
  if (sig.signature === 'unknown-key') {
    const extra = await lookupOnce(keys, sig.signerKeyIds);
    if (extra.length) {
      const again = await decryptPgp(s.armored, keys.dec, keys.ver, keys.maxDecompressed);
      if (again.ok) {
        out = again;
        sig = await evaluateSignatures(again.signatures, keys.ver);
      }
    }
  }
  if (s.kind === 'inline-encrypted') {
    const r = base('encrypted', form, inlineEntity(out.data, s.charset));
    return finish(r, sig, outerFrom);
  }
  // PGP/MIME: the plaintext is a MIME entity; an inner multipart/signed is the nested form (§1.4).
  let entity: Buffer = out.data;
  const ct = mediaType(parseEntity(entity).headers.find((h) => h.lname === 'content-type')?.value);
  if (ct.mime === 'multipart/signed' && ct.params['boundary']) {
    const nested = detectStructure(entity);
    if (nested.kind === 'pgp-mime-signed') {
      const inner = await verifySignedPart(nested.signedPart, nested.signature, keys);
      if (sig.signature === 'none' || (sig.signature !== 'valid' && inner.signature === 'valid')) sig = inner;
      entity = nested.signedPart;
    }
  }
  const prot = readProtectedHeaders(normalizeCrlf(entity));
  const r = base('encrypted', form, prot.entity);
  r.headerProtection = prot.scheme;
  r.innerHeaders = prot.fields;
  r.gossip = prot.gossip;
  r.attachedKeys = keys.attached;
  return finish(r, sig, outerFrom);
}

/**
 * OpenPGP inside S/MIME (an S/MIME-encrypted or opaque-signed entity holding PGP/MIME or inline
 * PGP): the inner layer is read as a message of its own (with the outer From, for the signer
 * check) and the two results joined: encrypted when either layer was, the inner layer's entity and
 * its signature unless only the S/MIME one is valid.
 */
async function openPgpInside(
  outer: DecryptResult,
  opts: DecryptOptions,
  outerFrom: string | undefined,
): Promise<DecryptResult> {
  delete outer.innerOpenPgp;
  const from = outerFrom ? Buffer.from(`From: ${outerFrom.replace(/[\r\n]+/g, ' ')}\r\n`) : Buffer.alloc(0);
  const { smime: _omit, ...rest } = opts;
  const inner = await decryptMessage(Buffer.concat([from, outer.mime]), rest);
  if (inner.status === 'failed') return { ...inner, standard: 'smime', smime: outer.smime ?? {} };
  const useOuterSig = outer.signature === 'valid' && inner.signature !== 'valid';
  const joined: DecryptResult = {
    ...inner,
    status: outer.status === 'encrypted' || inner.status === 'encrypted' ? 'encrypted' : 'none',
    standard: 'smime',
    warnings: [...outer.warnings, ...inner.warnings, `OpenPGP inside S/MIME (${inner.form})`],
  };
  // an inner layer that was only signed is served as the S/MIME layer's entity
  if (inner.status !== 'encrypted') {
    joined.mime = outer.mime;
    if (outer.unwrapped) joined.unwrapped = true;
  }
  if (outer.smime) joined.smime = outer.smime;
  if (useOuterSig) {
    joined.signature = outer.signature;
    joined.signerKeyIds = outer.signerKeyIds;
    joined.signerAddresses = outer.signerAddresses;
    joined.signerMismatch = outer.signerMismatch;
    if (outer.signerFingerprint) joined.signerFingerprint = outer.signerFingerprint;
  } else if (joined.smime) {
    // the signature shown is the OpenPGP one: no certificate facts with it
    joined.smime = joined.smime.cipher ? { cipher: joined.smime.cipher } : {};
  }
  // the CBC note stands unless the OpenPGP layer (SEIPD/MDC) or a valid signature protects the content
  if (outer.reason && inner.status !== 'encrypted' && joined.signature !== 'valid')
    joined.reason = outer.reason;
  return joined;
}

/**
 * S/MIME (RFC 8551): unwrap enveloped / authEnveloped / opaque signed layers and verify
 * multipart/signed ones, outermost first (triple-wrapped sign-encrypt-sign included, at most four
 * layers); a second encryption layer is left as it is. The signature reported is the first valid
 * one met, else the first one.
 */
async function readSmime(
  msg: Buffer,
  first: Extract<Structure, { kind: 'smime' | 'smime-signed' }>,
  m: SmimeMaterial,
  outerFrom: string | undefined,
): Promise<DecryptResult> {
  const fromAddr = addressOf(outerFrom);
  let s: Structure = first;
  let entity = msg;
  let encrypted: { auth: boolean; cipher: string } | null = null;
  let opaque = false;
  let sig: SmimeSignature | null = null;
  let micalgNote: string | null = null;
  const formNow = (): MessageForm =>
    encrypted
      ? encrypted.auth
        ? 'smime-auth-enveloped'
        : 'smime-enveloped'
      : opaque
        ? 'smime-signed-opaque'
        : 'smime-signed';
  const pick = (next: SmimeSignature) => {
    if (!sig || (sig.signature !== 'valid' && next.signature === 'valid')) sig = next;
  };
  for (let depth = 0; depth < 4; depth++) {
    if (s.kind === 'smime') {
      let kind;
      try {
        kind = cmsKind(s.der);
      } catch (err) {
        return smimeFailed((err as Error).message, formNow(), encrypted);
      }
      if (kind === 'enveloped' || kind === 'auth-enveloped') {
        if (encrypted) break;
        const out = await openEnveloped(s.der, m.identities);
        if (!out.ok)
          return smimeFailed(
            out.reason,
            kind === 'auth-enveloped' ? 'smime-auth-enveloped' : 'smime-enveloped',
            null,
          );
        encrypted = { auth: out.auth, cipher: out.cipher };
        entity = normalizeCrlf(out.data);
      } else if (kind === 'signed') {
        const v = await verifySigned(s.der, null, m, fromAddr);
        if (!v.content)
          return smimeFailed(v.sig.detail ?? 'unreadable signed-data', 'smime-signed-opaque', encrypted);
        pick(v.sig);
        opaque = true;
        entity = normalizeCrlf(v.content);
      } else return smimeFailed(`unsupported S/MIME content (${kind})`, formNow(), encrypted);
    } else if (s.kind === 'smime-signed') {
      let v = await verifySigned(s.der, s.signedPart, m, fromAddr);
      if (v.sig.signature === 'invalid' && !v.sig.expired && v.sig.revoked === undefined) {
        const crlf = normalizeCrlf(s.signedPart);
        if (crlf !== s.signedPart) {
          const again = await verifySigned(s.der, crlf, m, fromAddr);
          if (again.sig.signature === 'valid') v = again;
        }
      }
      pick(v.sig);
      if (s.micalg && !/^(sha-?(1|224|256|384|512))$/i.test(s.micalg))
        micalgNote = `unusual micalg ${s.micalg}`;
      entity = s.signedPart;
    } else break;
    s = detectStructure(entity);
  }
  const unwrapped = !encrypted && opaque;
  const innerOpenPgp =
    (encrypted !== null || unwrapped) &&
    (s.kind === 'pgp-mime' ||
      s.kind === 'inline-encrypted' ||
      s.kind === 'pgp-mime-signed' ||
      s.kind === 'inline-signed');
  const prot = readProtectedHeaders(normalizeCrlf(entity));
  const r = base(encrypted ? 'encrypted' : 'none', formNow(), encrypted || unwrapped ? prot.entity : msg);
  r.standard = 'smime';
  if (unwrapped) r.unwrapped = true;
  if (prot.scheme) {
    r.headerProtection = prot.scheme;
    r.innerHeaders = prot.fields;
  }
  if (encrypted) r.gossip = prot.gossip;
  if (micalgNote) r.warnings.push(micalgNote);
  const facts: SmimeFacts = encrypted ? { cipher: encrypted.cipher } : {};
  const got = sig as SmimeSignature | null;
  let outcome: SignatureOutcome = NO_SIGNATURE;
  if (got) {
    outcome = {
      signature: got.signature,
      signerKeyIds: got.signerFingerprint ? [got.signerFingerprint] : [],
      signerAddresses: got.signerAddresses,
      ...(got.signerFingerprint ? { signerFingerprint: got.signerFingerprint } : {}),
      ...(got.detail ? { detail: got.detail } : {}),
    };
    if (got.signerCertificate)
      facts.signerCertificate = Buffer.from(got.signerCertificate).toString('base64');
    if (got.notAfter !== undefined) facts.notAfter = got.notAfter;
    if (got.expired) facts.expired = true;
    if (got.revoked !== undefined) facts.revoked = got.revoked;
    if (got.trust) facts.trust = got.trust;
    if (got.capabilities) facts.capabilities = got.capabilities;
  }
  r.smime = facts;
  if (innerOpenPgp) r.innerOpenPgp = true;
  const done = finish(r, outcome, outerFrom);
  // CBC enveloped-data has no integrity check (RFC 8551 §2.7, the EFAIL gadgets): say so unless a
  // valid signature covers the content.
  if (encrypted && !encrypted.auth && done.signature !== 'valid')
    done.reason = `not integrity-protected (${encrypted.cipher} without a valid signature): the content may have been altered`;
  return done;
}

function smimeFailed(
  reason: string,
  form: MessageForm,
  encrypted: { auth: boolean; cipher: string } | null,
): DecryptResult {
  const r = failed(reason, form);
  r.standard = 'smime';
  if (encrypted) r.smime = { cipher: encrypted.cipher };
  return r;
}

/** The caller's key lookup, asked at most once per message; the new keys join `keys.ver`. */
async function lookupOnce(keys: Keys, keyIds: string[]): Promise<PublicKey[]> {
  if (!keys.lookup || keys.looked) return [];
  keys.looked = true;
  const extra = await toPublicKeys(await keys.lookup(keyIds, keys.attached));
  if (extra.length) keys.ver = [...keys.ver, ...extra];
  return extra;
}

/** Verify a multipart/signed part over its exact bytes; if that fails and the copy has bare LFs, re-canonicalize. */
async function verifySignedPart(
  part: Buffer,
  signature: string | Uint8Array,
  keys: Keys,
): Promise<SignatureOutcome> {
  const first = await withLookup(keys, (ver) => detachedOutcome(part, signature, ver));
  if (first.signature !== 'invalid') return first;
  const crlf = normalizeCrlf(part);
  if (crlf === part) return first;
  const second = await withLookup(keys, (ver) => detachedOutcome(crlf, signature, ver));
  return second.signature === 'valid' ? second : first;
}

async function detachedOutcome(data: Buffer, signature: string | Uint8Array, ver: PublicKey[]) {
  const res = await verifyDetached(data, signature, ver);
  if ('error' in res) return { ...NO_SIGNATURE, signature: 'invalid' as const, detail: res.error };
  return evaluateSignatures(res, ver);
}

async function cleartextOutcome(bytes: Buffer, ver: PublicKey[]) {
  const parts = parseCleartext(bytes);
  if (!parts)
    return { ...NO_SIGNATURE, signature: 'invalid' as const, detail: 'malformed cleartext signature' };
  return detachedOutcome(parts.signed, parts.signature, ver);
}

async function withLookup(
  keys: Keys,
  run: (ver: PublicKey[]) => Promise<SignatureOutcome>,
): Promise<SignatureOutcome> {
  const first = await run(keys.ver);
  if (first.signature !== 'unknown-key') return first;
  if (!(await lookupOnce(keys, first.signerKeyIds)).length) return first;
  return run(keys.ver);
}

function inlineEntity(data: Buffer, charset: string): Buffer {
  const text = normalizeCrlf(data);
  const eight = text.some((b) => b >= 0x80);
  return Buffer.concat([
    Buffer.from(
      `Content-Type: text/plain; charset=${/^[\w.:-]+$/.test(charset) ? charset : 'utf-8'}\r\n` +
        `Content-Transfer-Encoding: ${eight ? '8bit' : '7bit'}\r\n\r\n`,
    ),
    text,
  ]);
}

function base(status: DecryptResult['status'], form: MessageForm, mime: Buffer): DecryptResult {
  return {
    status,
    signature: 'none',
    signerKeyIds: [],
    signerAddresses: [],
    signerMismatch: false,
    form,
    headerProtection: null,
    innerHeaders: [],
    headersAuthenticated: false,
    shownHeaders: [],
    mime,
    gossip: [],
    attachedKeys: [],
    warnings: [],
    ...(form === 'plain'
      ? {}
      : { standard: form.startsWith('smime') ? ('smime' as const) : ('openpgp' as const) }),
  };
}

function failed(reason: string, form: MessageForm): DecryptResult {
  return { ...base('failed', form, Buffer.alloc(0)), reason };
}

function innerFrom(r: DecryptResult): string | undefined {
  return r.innerHeaders.find((h) => h.name.toLowerCase() === 'from')?.value;
}

/**
 * Settles what the served message shows: the protected fields replace the outer ones only under a
 * valid signature (which covers them: the whole signed or signed+encrypted payload) and only when
 * their From address is the outer one; an encrypted payload otherwise restores only fields that
 * name no one. Then the signer is checked against the From address that is shown.
 */
function finish(r: DecryptResult, sig: SignatureOutcome, outerFrom: string | undefined): DecryptResult {
  r.signature = sig.signature;
  r.signerKeyIds = sig.signerKeyIds;
  r.signerAddresses = sig.signerAddresses;
  if (sig.signerFingerprint) r.signerFingerprint = sig.signerFingerprint;
  const outerAddr = addressOf(outerFrom);
  const innerAddr = addressOf(innerFrom(r));
  const valid = sig.signature === 'valid';
  if (valid && innerAddr && outerAddr && innerAddr !== outerAddr) r.protectedFromMismatch = innerAddr;
  r.headersAuthenticated = valid && r.innerHeaders.length > 0 && !r.protectedFromMismatch;
  r.shownHeaders = shownInnerHeaders(
    r.innerHeaders,
    r.headersAuthenticated ? 'authenticated' : r.status === 'encrypted' ? 'encrypted' : 'none',
  );
  if (r.protectedFromMismatch)
    r.warnings.push(`the signed protected From ${innerAddr} differs from the outer From ${outerAddr}`);
  const fromAddr = (r.headersAuthenticated ? innerAddr : undefined) ?? outerAddr;
  r.signerMismatch = valid && (!fromAddr || !sig.signerAddresses.includes(fromAddr));
  if (r.signerMismatch)
    r.warnings.push(
      `signer ${sig.signerAddresses.join(', ') || '(no address)'} is not the From address ${fromAddr ?? '(none)'}`,
    );
  if (sig.detail) r.warnings.push(`signature: ${sig.detail}`);
  return r;
}

/** The (lowercase) addr-spec of a From value: the last <...>, else the bare address. */
export function addressOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const angle = [...value.matchAll(/<([^<>\s]+@[^<>\s]+)>/g)].pop();
  if (angle) return angle[1]!.toLowerCase();
  return /([^\s<>"(),;:]+@[^\s<>"(),;:]+)/.exec(value)?.[1]?.toLowerCase();
}

function findAttachedKeys(entity: Buffer): string[] {
  const keys: string[] = [];
  walkEntity(entity, (n) => {
    if (n.ct.mime === 'application/pgp-keys') {
      const text = decodeTransfer(n.entity.body, n.cte).toString('latin1');
      if (text.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----')) keys.push(text.trim());
    }
    if (n.ct.mime === 'multipart/encrypted' || n.ct.mime === 'application/pgp-signature') return false;
  });
  return keys;
}
