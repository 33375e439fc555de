/**
 * Inbound processing for sync (the `ProcessInbound` hook): decrypt and verify a provider message
 * with the user's keys (app/crypto), feed Autocrypt headers, gossip and attached keys to the
 * keyring (app/keys), and return the exact bytes the bridge stores and serves — inner headers
 * restored as far as they are authenticated (README "What your mail client is shown"),
 * X-Lockbridge-* status headers fixed now (../CONTRACT: a served message never changes).
 * Mail that cannot be decrypted is served as it came with `X-Lockbridge-Encryption: failed`.
 *
 * The signer's key: the From address's keys first; when none made the signature, the whole
 * keyring by key ID (own keys included) and a key attached to the message that the keyring would
 * take as the sender's (keys/signer-keys.ts).
 *
 * S/MIME (issue 19): the user's certificates with keys, the certificates held for the sender and
 * the trust anchors go along (the system roots only for shapes that can carry a signature); the
 * signer certificate of a validly signed message is learnt for the sender's address.
 */
import type * as openpgp from 'openpgp';
import type { CryptoEngine } from '../../crypto/engine.ts';
import { buildServedMessage } from '../../crypto/served-message.ts';
import type { DecryptResult } from '../../crypto/decrypt.ts';
import { parseHeaderBlock, firstValue, fieldValue } from '../../mime/header-block.ts';
import { addressesOf } from '../../mime/address.ts';
import { parseContentType } from '../../mime/params.ts';
import { parseRfc5322Date } from '../../mime/date.ts';
import type { Keyring } from '../../keys/keyring.ts';
import type { AutocryptService } from '../../keys/autocrypt/service.ts';
import type { InboundResult, ProcessInbound } from '../../sync/types.ts';
import type { Logger } from '../../shared/logger.ts';

export interface InboundDeps {
  keyring: Keyring;
  autocrypt: AutocryptService;
  engine: CryptoEngine;
  logger: Logger;
  now?: () => number;
}

interface OuterFacts {
  from: string[];
  recipients: string[];
  contentType: string;
  date: number | null;
  autocrypt: string[];
}

function addresses(value: string | null): string[] {
  return value === null ? [] : addressesOf(value).map((a) => a.toLowerCase());
}

function outerFacts(raw: Buffer): OuterFacts {
  const block = parseHeaderBlock(raw, 0, raw.length);
  const get = (name: string) => firstValue(raw, block, name);
  const ct = parseContentType(get('content-type'));
  return {
    from: addresses(get('from')),
    recipients: [...addresses(get('to')), ...addresses(get('cc')), ...addresses(get('reply-to'))],
    contentType: ct ? `${ct.type}/${ct.subtype}`.toLowerCase() : 'text/plain',
    date: parseRfc5322Date(get('date')),
    autocrypt: block.fields.filter((f) => f.lower === 'autocrypt').map((f) => fieldValue(raw, f)),
  };
}

/** Outer Content-Types an S/MIME signature can come in (directly or as the sole part of a wrapper). */
const SIGNED_SHAPES = /pkcs7|^multipart\/(signed|mixed)$|^application\/octet-stream$/;

export function createInboundProcessor(deps: InboundDeps): ProcessInbound {
  const log = deps.logger.child({ module: 'inbound' });
  const now = deps.now ?? Date.now;
  let cachedKeys: { at: number; keys: openpgp.PrivateKey[] } | null = null;
  const smime = deps.keyring.smime;

  const privateKeys = async (): Promise<openpgp.PrivateKey[]> => {
    // Own keys change rarely; re-read them at most every 10 s (a new or imported key shows up quickly).
    if (cachedKeys && now() - cachedKeys.at < 10_000) return cachedKeys.keys;
    cachedKeys = { at: now(), keys: await deps.keyring.own.allPrivateKeys() };
    return cachedKeys.keys;
  };

  return async (raw: Buffer): Promise<InboundResult> => {
    const facts = outerFacts(raw);
    const sender = facts.from.length === 1 ? (facts.from[0] as string) : null;
    let result: DecryptResult;
    try {
      result = await deps.engine.decryptMessage(raw, {
        decryptionKeys: await privateKeys(),
        verificationKeys: sender ? await deps.keyring.contacts.verificationKeysFor(sender) : [],
        lookupVerificationKeys: async (keyIds, attached) => [
          ...(await deps.keyring.signers.byKeyIds(keyIds)),
          ...(sender ? await deps.keyring.signers.attachedFor(sender, attached, keyIds) : []),
        ],
        ...(smime
          ? { smime: smime.material(sender, { systemRoots: SIGNED_SHAPES.test(facts.contentType) }) }
          : {}),
      });
    } catch (err) {
      log.warn({ err }, 'inbound processing failed; serving the message as it came');
      result = {
        status: 'failed',
        reason: 'the message could not be processed',
        signature: 'none',
        signerKeyIds: [],
        signerAddresses: [],
        signerMismatch: false,
        form: 'plain',
        headerProtection: null,
        innerHeaders: [],
        headersAuthenticated: false,
        shownHeaders: [],
        mime: Buffer.alloc(0),
        gossip: [],
        attachedKeys: [],
        warnings: [],
      };
    }
    const served = buildServedMessage(raw, result);

    // Keys learnt from this message: never let a problem here lose the message.
    try {
      await deps.autocrypt.processIncoming({
        from: facts.from,
        contentType: facts.contentType,
        date: facts.date,
        receivedAt: now(),
        autocryptHeaders: facts.autocrypt,
      });
      if (result.status === 'encrypted' && result.gossip.length)
        await deps.autocrypt.processGossip(result.gossip, facts.recipients, facts.date, now());
      // an attached key is recorded for the sender's address only (never for others in its User IDs)
      if (sender)
        for (const armored of result.attachedKeys)
          await deps.keyring.importAttachedKey(sender, armored, now()).catch(() => null);
      const cert = result.smime?.signerCertificate;
      if (smime && sender && cert && result.signature === 'valid' && !result.signerMismatch)
        smime.learn(sender, cert, result.smime?.capabilities);
    } catch (err) {
      log.debug({ err }, 'could not record keys from an incoming message');
    }
    return {
      served,
      keys: result.attachedKeys,
      meta: { encryption: result.status, signature: result.signature, form: result.form },
    };
  };
}
