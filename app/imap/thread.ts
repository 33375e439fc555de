/** THREAD algorithms of RFC 5256: ORDEREDSUBJECT and REFERENCES (§2.1, §2.2). */
import type { MessageRow } from './backend.ts';

export interface ThreadMsg {
  id: number; // seq or uid as answered
  row: MessageRow;
}

interface Node {
  msg: ThreadMsg | null;
  children: Node[];
  parent: Node | null;
}

function sentDate(m: ThreadMsg): number {
  return m.row.headers?.date ?? m.row.internalDate;
}

function nodeDate(n: Node): number {
  if (n.msg) return sentDate(n.msg);
  let best = Infinity;
  for (const c of n.children) best = Math.min(best, nodeDate(c));
  return best;
}

function nodeId(n: Node): number {
  if (n.msg) return n.msg.id;
  return n.children.length ? nodeId(n.children[0]!) : 0;
}

function byDate(a: Node, b: Node): number {
  return nodeDate(a) - nodeDate(b) || nodeId(a) - nodeId(b);
}

/** RFC 5256 thread-list syntax. */
function format(n: Node): string {
  const parts: string[] = [];
  let cur: Node = n;
  // A chain of single children is written flat: (1 2 3)
  while (true) {
    if (cur.msg) parts.push(String(cur.msg.id));
    if (cur.children.length === 1) {
      cur = cur.children[0]!;
      continue;
    }
    if (cur.children.length > 1) parts.push(cur.children.map(format).join(''));
    break;
  }
  return '(' + parts.join(' ') + ')';
}

export function orderedSubject(msgs: ThreadMsg[]): string {
  const groups = new Map<string, ThreadMsg[]>();
  for (const m of [...msgs].sort((a, b) => sentDate(a) - sentDate(b) || a.id - b.id)) {
    const s = (m.row.headers?.baseSubject ?? '').toLowerCase();
    let g = groups.get(s);
    if (!g) groups.set(s, (g = []));
    g.push(m);
  }
  const roots: Node[] = [];
  for (const g of groups.values()) {
    const root: Node = { msg: g[0]!, children: [], parent: null };
    for (const m of g.slice(1)) root.children.push({ msg: m, children: [], parent: root });
    roots.push(root);
  }
  roots.sort(byDate);
  return roots.map(format).join('');
}

function isAncestor(a: Node, b: Node): boolean {
  for (let p: Node | null = b; p; p = p.parent) if (p === a) return true;
  return false;
}

function link(parent: Node, child: Node): void {
  if (child.parent === parent || isAncestor(child, parent) || parent === child) return;
  if (child.parent) child.parent.children = child.parent.children.filter((c) => c !== child);
  child.parent = parent;
  parent.children.push(child);
}

function prune(nodes: Node[], isRoot: boolean): Node[] {
  const out: Node[] = [];
  for (const n of nodes) {
    n.children = prune(n.children, false);
    for (const c of n.children) c.parent = n;
    if (!n.msg) {
      if (n.children.length === 0) continue;
      if (!isRoot || n.children.length === 1) {
        for (const c of n.children) {
          c.parent = n.parent;
          out.push(c);
        }
        continue;
      }
    }
    out.push(n);
  }
  return out;
}

export function references(msgs: ThreadMsg[]): string {
  const table = new Map<string, Node>();
  const get = (id: string): Node => {
    let n = table.get(id);
    if (!n) table.set(id, (n = { msg: null, children: [], parent: null }));
    return n;
  };
  let anon = 0;
  for (const m of msgs) {
    const h = m.row.headers;
    let id = h?.messageId ?? null;
    if (!id || (table.get(id)?.msg ?? null)) id = `\0anon${anon++}`;
    const node = get(id);
    node.msg = m;
    const refs = [...(h?.references ?? [])];
    if (!refs.length && h?.inReplyTo) refs.push(h.inReplyTo);
    let prev: Node | null = null;
    for (const r of refs) {
      const rn = get(r);
      if (prev && !rn.parent) link(prev, rn);
      prev = rn;
    }
    if (node.parent) node.parent.children = node.parent.children.filter((c) => c !== node);
    node.parent = null;
    if (prev && prev !== node && !isAncestor(node, prev)) link(prev, node);
  }
  let roots = [...table.values()].filter((n) => !n.parent);
  roots = prune(roots, true);
  // Group roots by base subject (RFC 5256 §2.2 step 5, simplified): later roots with the same
  // subject become children of the first.
  const bySubject = new Map<string, Node>();
  const finalRoots: Node[] = [];
  for (const r of [...roots].sort(byDate)) {
    const subj = (
      r.msg?.row.headers?.baseSubject ??
      r.children[0]?.msg?.row.headers?.baseSubject ??
      ''
    ).toLowerCase();
    const prev = subj ? bySubject.get(subj) : undefined;
    if (prev && r.msg && /^(re|fwd?):/i.test(r.msg.row.headers?.subject ?? '')) {
      link(prev, r);
      continue;
    }
    if (subj && !prev) bySubject.set(subj, r);
    finalRoots.push(r);
  }
  const sortRec = (n: Node): void => {
    n.children.sort(byDate);
    n.children.forEach(sortRec);
  };
  finalRoots.forEach(sortRec);
  finalRoots.sort(byDate);
  return finalRoots.map(format).join('');
}
