/** Test helpers: third-party keys made with openpgp.js (fresh, expired, revoked, sign-only). */
import * as openpgp from 'openpgp';

const DAY = 86_400_000;

export async function makeKey(
  email: string,
  opts: {
    createdDaysAgo?: number;
    lifetimeDays?: number;
    revoked?: boolean;
    signOnly?: boolean;
    extraUids?: string[];
  } = {},
): Promise<{ publicKey: openpgp.PublicKey; privateKey: openpgp.PrivateKey; armoredPublic: string }> {
  const date = new Date(Date.now() - (opts.createdDaysAgo ?? 0) * DAY);
  const userIDs = [{ email }, ...(opts.extraUids ?? []).map((e) => ({ email: e }))];
  const res = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs,
    date,
    keyExpirationTime: opts.lifetimeDays ? opts.lifetimeDays * 86400 : 0,
    format: 'object',
    subkeys: opts.signOnly ? [] : [{}],
  });
  let publicKey = res.publicKey;
  let privateKey = res.privateKey;
  if (opts.revoked) {
    const r = await openpgp.revokeKey({ key: privateKey, format: 'object' });
    publicKey = r.publicKey;
    privateKey = r.privateKey;
  }
  return { publicKey, privateKey, armoredPublic: publicKey.armor() };
}
