/**
 * The WKD tree for a domain, so a user can publish their own keys (control API `exportWkd`):
 * `openpgpkey/hu/<hash>` (binary key, User IDs filtered to that address) plus an empty `policy`,
 * laid out for the direct method (serve it as https://<domain>/.well-known/openpgpkey/...; for
 * the advanced method put the same files under openpgpkey.<domain>/.well-known/openpgpkey/<domain>/).
 * Returned as path → base64 contents.
 */
import * as openpgp from 'openpgp';
import { splitAddress } from '../address.ts';
import { keepOnlyUserIdsFor } from '../key-info.ts';
import type { OwnKeyRecord } from '../types.ts';
import { wkdHash } from './wkd-url.ts';

export async function buildWkdTree(ownKeys: OwnKeyRecord[], domain: string): Promise<Record<string, string>> {
  const d = domain.toLowerCase();
  const out: Record<string, string> = { 'openpgpkey/policy': '' };
  for (const rec of ownKeys) {
    if (rec.status !== 'active') continue;
    const { local, domain: kd } = splitAddress(rec.email);
    if (kd !== d) continue;
    const key = await openpgp.readKey({ armoredKey: rec.armoredPublic });
    const filtered = await keepOnlyUserIdsFor(key, rec.email);
    if (!filtered) continue;
    out[`openpgpkey/hu/${wkdHash(local)}`] = Buffer.from(filtered.write()).toString('base64');
  }
  return out;
}
