/**
 * Autocrypt Setup Message (standards §3f): the encrypted payload of a new one (the message around
 * it is written by app/outgoing/setup-message.ts), and the import of one on another device.
 *
 * Payload: the armored secret key (with `Autocrypt-Prefer-Encrypt`), symmetrically encrypted to
 * the Setup Code as SKESK v4 + SEIPD v1 with iterated+salted S2K and AES-256 (never Argon2/AEAD,
 * so GnuPG 2.2 and RNP can read it), armored with `Passphrase-Format: numeric9x4` and
 * `Passphrase-Begin`. The code is returned to the caller to show to the user; it never goes into
 * any message.
 */
import * as openpgp from 'openpgp';
import { UserError } from '../../shared/errors.ts';
import { canonicalAddress } from '../address.ts';
import { keyEmails } from '../key-info.ts';
import type { Keyring } from '../keyring.ts';
import { addArmorHeaders } from '../own-keys.ts';
import { INTEROP_CONFIG } from '../pgp-config.ts';
import type { OwnKeyRecord, PreferEncrypt } from '../types.ts';
import { generateSetupCode, normalizeSetupCode } from './setup-code.ts';
import { headerValue, parseEntity, walkEntity } from '../../mime/entity.ts';
import { fieldValue, parseHeaderBlock } from '../../mime/header-block.ts';
import { decodeTransfer } from '../../mime/transfer-encoding.ts';

const ASM_CONFIG: openpgp.PartialConfig = {
  ...INTEROP_CONFIG,
  aeadProtect: false,
  s2kType: openpgp.enums.s2k.iterated,
  preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
};

/** Encrypts an armored secret key to a setup code; returns the armored message with ASM headers. */
export async function encryptSetupPayload(armoredSecretKey: string, setupCode: string): Promise<string> {
  const message = await openpgp.createMessage({ text: armoredSecretKey });
  const armored = await openpgp.encrypt({
    message,
    passwords: [setupCode],
    format: 'armored',
    config: ASM_CONFIG,
  });
  return addArmorHeaders(armored, {
    'Passphrase-Format': 'numeric9x4',
    'Passphrase-Begin': setupCode.slice(0, 2),
  });
}

/**
 * The payload of a new Setup Message for the active own key of `email`: the secret key (with
 * `Autocrypt-Prefer-Encrypt`) encrypted to a fresh Setup Code. Marks the key backed up.
 * app/outgoing/setup-message.ts writes the message around it.
 */
export async function createSetupPayload(
  keyring: Keyring,
  email: string,
): Promise<{ address: string; setupCode: string; armored: string; fingerprint: string }> {
  const address = canonicalAddress(email);
  const rec = keyring.own.active(address);
  if (!rec) throw new UserError('no-own-key', `no own key for ${address}: generate or import one first`);
  const setupCode = generateSetupCode();
  const keyArmored = await keyring.own.armoredSecret(rec, undefined, {
    'Autocrypt-Prefer-Encrypt': rec.preferEncrypt,
  });
  const armored = await encryptSetupPayload(keyArmored, setupCode);
  keyring.own.markBackedUp([rec.fingerprint]);
  return { address, setupCode, armored, fingerprint: rec.fingerprint };
}

/** True when a raw message is an Autocrypt Setup Message (header `Autocrypt-Setup-Message: v1`). */
export function isSetupMessage(raw: string | Uint8Array): boolean {
  const buf = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  const block = parseHeaderBlock(buf, 0, Math.min(buf.length, 64 * 1024));
  return block.fields.some(
    (f) => f.lower === 'autocrypt-setup-message' && fieldValue(buf, f).toLowerCase() === 'v1',
  );
}

export interface ParsedSetupMessage {
  armored: string;
  passphraseFormat: string | null;
  passphraseBegin: string | null;
}

/**
 * Finds the encrypted payload of a Setup Message (whole message, or just the attachment text).
 * A message whose `Autocrypt-Setup-Message` header is present but not `v1` is refused.
 */
export function parseSetupMessage(raw: string): ParsedSetupMessage {
  let text = raw;
  if (/^[\x21-\x39\x3b-\x7e]+:/.test(raw)) {
    const buf = Buffer.from(raw, 'utf8');
    const flag = headerValue(parseEntity(buf), 'autocrypt-setup-message');
    if (flag !== undefined && flag.toLowerCase() !== 'v1') {
      throw new UserError(
        'bad-setup-message',
        `unsupported Autocrypt-Setup-Message version ${JSON.stringify(flag)}`,
      );
    }
    const leaves: { mime: string; text: string }[] = [];
    walkEntity(buf, (n) => {
      if (n.ct.mime.startsWith('multipart/') || n.ct.mime === 'message/rfc822') return;
      leaves.push({ mime: n.ct.mime, text: decodeTransfer(n.entity.body, n.cte).toString('utf8') });
    });
    const setupPart = leaves.find((p) => p.mime === 'application/autocrypt-setup');
    text = setupPart ? setupPart.text : leaves.map((p) => p.text).join('\n');
  }
  const m = /-----BEGIN PGP MESSAGE-----\r?\n([\s\S]*?)-----END PGP MESSAGE-----/.exec(text);
  if (!m)
    throw new UserError(
      'bad-setup-message',
      'no encrypted key (PGP MESSAGE block) found in the Setup Message',
    );
  const armored = `-----BEGIN PGP MESSAGE-----\n${m[1]!.replace(/\r\n/g, '\n')}-----END PGP MESSAGE-----\n`;
  const head = m[1]!.split(/\r?\n\r?\n/)[0] ?? '';
  const hdr = (name: string): string | null => {
    const r = new RegExp(`^${name}:\\s*(.+)$`, 'im').exec(head);
    return r ? r[1]!.trim() : null;
  };
  return { armored, passphraseFormat: hdr('Passphrase-Format'), passphraseBegin: hdr('Passphrase-Begin') };
}

/** Decrypts a Setup Message payload; returns the armored secret key and its prefer-encrypt. */
export async function decryptSetupPayload(
  armored: string,
  setupCode: string,
): Promise<{ armoredKey: string; preferEncrypt: PreferEncrypt }> {
  const candidates = [...new Set([setupCode, normalizeSetupCode(setupCode)])];
  let data: string | null = null;
  for (const code of candidates) {
    try {
      // a fresh message per attempt: a failed decryption leaves packets in a used state
      const message = await openpgp.readMessage({ armoredMessage: armored });
      const r = await openpgp.decrypt({
        message,
        passwords: [code],
        format: 'utf8',
        config: { allowUnauthenticatedMessages: false },
      });
      data = String(r.data);
      break;
    } catch {
      // try the next spelling of the code
    }
  }
  if (data === null) throw new UserError('bad-setup-code', 'the Setup Code does not open this Setup Message');
  const m = /-----BEGIN PGP PRIVATE KEY BLOCK-----[\s\S]*?-----END PGP PRIVATE KEY BLOCK-----/.exec(data);
  if (!m) throw new UserError('bad-setup-message', 'the Setup Message does not contain a secret key');
  const pe = /^Autocrypt-Prefer-Encrypt:\s*(\S+)/im.exec(m[0].split(/\r?\n\r?\n/)[0] ?? '');
  return {
    armoredKey: m[0] + '\n',
    preferEncrypt: pe?.[1]?.toLowerCase() === 'mutual' ? 'mutual' : 'nopreference',
  };
}

/**
 * Imports a Setup Message (raw message or payload) with its code: the key becomes the active own
 * key. With `forAddress` (the account whose Inbox it came from) a key without a User ID of that
 * address is refused ('bad-setup-message'): it would not be the account's key.
 */
export async function importSetupMessage(
  keyring: Keyring,
  raw: string,
  setupCode: string,
  opts: { forAddress?: string } = {},
): Promise<OwnKeyRecord> {
  const parsed = parseSetupMessage(raw);
  const { armoredKey, preferEncrypt } = await decryptSetupPayload(parsed.armored, setupCode);
  const key = await openpgp.readPrivateKey({ armoredKey });
  if (opts.forAddress !== undefined) {
    const addr = canonicalAddress(opts.forAddress);
    const emails = keyEmails(key);
    if (!emails.includes(addr))
      throw new UserError(
        'bad-setup-message',
        `the Setup Message holds a key for ${emails.join(', ') || 'no address'}, not for ${addr}`,
      );
  }
  return keyring.own.importSecret(key, { preferEncrypt });
}
