/**
 * Builds the upstream copies of one submission from its plan: PGP/MIME encrypted+signed,
 * signed-only, or plain; each with its own envelope. Keys are passed per copy, so a copy can
 * only ever contain PKESKs for its own recipients and the sender.
 */
import type * as openpgp from 'openpgp';
import { encryptMessage } from '../../crypto/pgp-mime-encrypt.ts';
import { signMessage } from '../../crypto/pgp-mime-sign.ts';
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
  /** Autocrypt-Gossip values per visible recipient (never Bcc) */
  gossip?: Map<string, string>;
}

export interface BuiltCopy {
  kind: 'visible' | 'bcc';
  protection: Protection;
  envelope: { from: string; to: string[] };
  raw: Buffer;
}

export async function buildCopies(input: BuildInput): Promise<BuiltCopy[]> {
  return Promise.all(input.copies.map((c) => buildCopy(input, c)));
}

async function buildCopy(input: BuildInput, copy: CopyPlan): Promise<BuiltCopy> {
  const envelope = {
    from: input.mailFrom,
    to: copy.recipients.map((r) => input.envelopeForm.get(r) ?? r),
  };
  const signingKeys = input.sender && input.sign ? [input.sender.privateKey] : [];
  let raw: Buffer;
  if (copy.protection === 'encrypt') {
    const keys = copy.recipients.map((r) => {
      const k = input.keys.get(r);
      if (!k) throw new Error(`internal: no key for ${r} in an encrypted copy`);
      return k;
    });
    if (input.sender) keys.push(input.sender.publicKey);
    const gossip =
      copy.kind === 'visible' && copy.recipients.length > 1 && input.gossip
        ? copy.recipients.map((r) => input.gossip!.get(r)).filter((g): g is string => Boolean(g))
        : [];
    raw = await encryptMessage(input.base, { encryptionKeys: keys, signingKeys, gossip });
  } else if (copy.protection === 'sign') {
    if (!input.sender) throw new Error('internal: a signed copy needs the sender key');
    raw = await signMessage(input.base, { signingKeys: [input.sender.privateKey] });
  } else {
    raw = input.base;
  }
  return { kind: copy.kind, protection: copy.protection, envelope, raw };
}
