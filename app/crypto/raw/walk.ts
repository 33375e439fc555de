/** Depth-first walk over a MIME entity tree (multipart children and message/rfc822 bodies). */
import type { ContentType } from './content-type.ts';
import { parseContentType } from './content-type.ts';
import type { RawEntity } from './headers.ts';
import { parseEntity } from './headers.ts';
import { splitMultipart } from './multipart.ts';

export interface WalkNode {
  entity: RawEntity;
  ct: ContentType;
  /** lowercase transfer encoding ('7bit' when absent) */
  cte: string;
  depth: number;
  /** true for the root entity itself */
  root: boolean;
}

const MAX_DEPTH = 32;

/** Visit every entity; return false from `visit` to stop descending into that node. */
export function walkEntity(buf: Buffer, visit: (node: WalkNode) => boolean | void, depth = 0): void {
  if (depth > MAX_DEPTH) return;
  const entity = parseEntity(buf);
  const ct = parseContentType(entity.headers.find((h) => h.lname === 'content-type')?.value);
  const cte = (
    entity.headers.find((h) => h.lname === 'content-transfer-encoding')?.value ?? '7bit'
  ).toLowerCase();
  if (visit({ entity, ct, cte, depth, root: depth === 0 }) === false) return;
  if (ct.mime.startsWith('multipart/') && ct.params['boundary']) {
    for (const r of splitMultipart(entity.body, ct.params['boundary']).parts)
      walkEntity(entity.body.subarray(r.start, r.end), visit, depth + 1);
  } else if (ct.mime === 'message/rfc822' && (cte === '7bit' || cte === '8bit' || cte === 'binary')) {
    walkEntity(entity.body, visit, depth + 1);
  }
}
