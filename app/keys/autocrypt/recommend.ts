/**
 * The Autocrypt Level 1 recommendation (standards §3c), as pure functions over peer state whose
 * keys were already judged usable or not (revoked, expired or unusable keys count as null).
 */
import type { AutocryptPeerRecord, PreferEncrypt } from '../types.ts';

export type Recommendation = 'disable' | 'discourage' | 'available' | 'encrypt';

export const STALE_MS = 35 * 86_400_000;

export interface PeerView {
  peer: AutocryptPeerRecord | null;
  publicKeyUsable: boolean;
  gossipKeyUsable: boolean;
}

export interface RecommendationResult {
  preliminary: Recommendation;
  final: Recommendation;
  target: 'public' | 'gossip' | null;
}

export function recommendFor(
  v: PeerView,
  ctx: { ownPreferEncrypt: PreferEncrypt; replyToEncrypted?: boolean },
): RecommendationResult {
  const p = v.peer;
  if (!p) return { preliminary: 'disable', final: 'disable', target: null };
  const hasPublic = p.publicKey !== null && v.publicKeyUsable;
  const hasGossip = p.gossipKey !== null && v.gossipKeyUsable;
  if (!hasPublic && !hasGossip) return { preliminary: 'disable', final: 'disable', target: null };
  let preliminary: Recommendation;
  let target: 'public' | 'gossip';
  if (!hasPublic) {
    preliminary = 'discourage';
    target = 'gossip';
  } else {
    target = 'public';
    const stale = p.autocryptTimestamp !== null && p.lastSeen - p.autocryptTimestamp > STALE_MS;
    preliminary = stale ? 'discourage' : 'available';
  }
  let final: Recommendation = preliminary;
  if ((preliminary === 'available' || preliminary === 'discourage') && ctx.replyToEncrypted)
    final = 'encrypt';
  else if (preliminary === 'available' && p.preferEncrypt === 'mutual' && ctx.ownPreferEncrypt === 'mutual')
    final = 'encrypt';
  return { preliminary, final, target };
}

/** Several recipients: any disable → disable; all encrypt → encrypt; any discourage → discourage; else available. */
export function combineRecommendations(list: Recommendation[]): Recommendation {
  if (list.length === 0) return 'disable';
  if (list.includes('disable')) return 'disable';
  if (list.every((r) => r === 'encrypt')) return 'encrypt';
  if (list.includes('discourage')) return 'discourage';
  return 'available';
}
