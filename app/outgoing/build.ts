/**
 * Builds the upstream copies of one submission from its plan: PGP/MIME encrypted+signed, S/MIME
 * signed then encrypted, signed-only, or plain; each with its own envelope. Encrypted copies share
 * one signed+encrypted payload and differ only in their PKESK packets (crypto's encryptCopies), so a
 * copy names only its own recipients' keys (+ the sender's). S/MIME copies likewise share one
 * signature and differ in their recipient infos (crypto's smimeCopies): each names its recipients'
 * certificates and the sender's own (the Sent copy), and uses AES-256-GCM only when every one of
 * its recipients announced it (AES-256-CBC otherwise). Signed and plain copies are identical bytes
 * for everyone and are built once.
 */
import type * as openpgp from 'openpgp';
import { encryptCopies } from '../crypto/pgp-mime-encrypt.ts';
import { signMessage } from '../crypto/pgp-mime-sign.ts';
import type { CryptoEngine } from '../crypto/engine.ts';
import { smimeCopies, type SmimeCopiesOptions } from '../crypto/smime-write.ts';
import type { OwnSigner, RecipientCertificate } from '../keys/smime.ts';
import type { CopyPlan, Protection } from './plan.ts';

export interface SenderKeys {
  privateKey: openpgp.PrivateKey;
  publicKey: openpgp.PublicKey;
}

export interface BuildInput {
  base: Buffer;
  copies: CopyPlan[];
  mailFrom: string;
  /** canonical recipient → the address as given in RCPT TO */
  envelopeForm: Map<string, string>;
  /** canonical recipient → its encryption key (only for 'encrypt' recipients) */
  keys: Map<string, openpgp.PublicKey>;
  sender: SenderKeys | null;
  /** sign encrypted copies too (setting) */
  sign: boolean;
  /** Autocrypt-Gossip values of visible recipients (never Bcc); carried by every encrypted copy */
  gossip?: Map<string, string>;
  /** canonical recipient → its S/MIME certificate (only for 'smime' recipients) */
  certificates?: Map<string, RecipientCertificate>;
  /** the sender's own S/MIME certificate and key (needed when a copy is 'smime') */
  smimeSender?: OwnSigner | null;
  /** runs the S/MIME work (the crypto worker pool); without it, this thread does */
  engine?: Pick<CryptoEngine, 'smimeCopies'>;
}

export interface BuiltCopy {
  kind: 'visible' | 'bcc';
  protection: Protection;
  envelope: { from: string; to: string[] };
  raw: Buffer;
}

export async function buildCopies(input: BuildInput): Promise<BuiltCopy[]> {
  const enc = input.copies.filter((c) => c.protection === 'encrypt');
  const keyLists = enc.map((c) => {
    const keys = c.recipients.map((r) => {
      const k = input.keys.get(r);
      if (!k) throw new Error(`internal: no key for ${r} in an encrypted copy`);
      return k;
    });
    if (input.sender) keys.push(input.sender.publicKey);
    return keys;
  });
  const visibleEnc = enc.find((c) => c.kind === 'visible');
  const gossip =
    visibleEnc && visibleEnc.recipients.length > 1 && input.gossip
      ? visibleEnc.recipients.map((r) => input.gossip!.get(r)).filter((g): g is string => Boolean(g))
      : [];
  const [encrypted, signed, smime] = await Promise.all([
    encryptCopies(input.base, {
      copies: keyLists,
      signingKeys: input.sender && input.sign ? [input.sender.privateKey] : [],
      gossip,
    }),
    input.copies.some((c) => c.protection === 'sign')
      ? (async () => {
          if (!input.sender) throw new Error('internal: a signed copy needs the sender key');
          return signMessage(input.base, { signingKeys: [input.sender.privateKey] });
        })()
      : Promise.resolve(null),
    smimeFor(input),
  ]);
  let e = 0;
  let s = 0;
  return input.copies.map((c) => ({
    kind: c.kind,
    protection: c.protection,
    envelope: { from: input.mailFrom, to: c.recipients.map((r) => input.envelopeForm.get(r) ?? r) },
    raw:
      c.protection === 'encrypt'
        ? encrypted[e++]!
        : c.protection === 'smime'
          ? smime[s++]!
          : c.protection === 'sign'
            ? signed!
            : input.base,
  }));
}

/** The S/MIME copies, in plan order: signed once, each encrypted to its recipients and the sender. */
async function smimeFor(input: BuildInput): Promise<Buffer[]> {
  const copies = input.copies.filter((c) => c.protection === 'smime');
  if (!copies.length) return [];
  const signer = input.smimeSender;
  if (!signer) throw new Error('internal: an S/MIME copy needs the sender certificate');
  const opts: SmimeCopiesOptions = {
    // only what the job needs crosses to the worker
    signer: { certificate: signer.certificate, privateKey: signer.privateKey, chain: signer.chain ?? [] },
    copies: copies.map((c) => {
      const certs = c.recipients.map((r) => {
        const cert = input.certificates?.get(r);
        if (!cert) throw new Error(`internal: no certificate for ${r} in an S/MIME copy`);
        return cert;
      });
      const all = new Map([...certs, ...(signer.self ? [signer.self] : [])].map((x) => [x.fingerprint, x]));
      return { recipients: [...all.values()].map((x) => x.certDer), gcm: certs.every((x) => x.gcm) };
    }),
  };
  return input.engine ? input.engine.smimeCopies(input.base, opts) : smimeCopies(input.base, opts);
}
