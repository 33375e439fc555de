/**
 * LIST (RFC 3501 §6.3.8) with LIST-EXTENDED (RFC 5258: selection options SUBSCRIBED, REMOTE,
 * RECURSIVEMATCH, SPECIAL-USE; return options SUBSCRIBED, CHILDREN, SPECIAL-USE, STATUS (RFC 5819)),
 * and LSUB (§6.3.9). Parents that do not exist show as \NonExistent (extended) / \Noselect.
 */
import type { CommandContext, CommandSpec } from '../command.ts';
import { AUTHED } from '../command.ts';
import type { ImapToken } from '../wire/types.ts';
import type { MailboxInfo } from '../backend.ts';
import type { Session } from '../session.ts';
import { ImapBadError, InvalidMailboxNameError } from '../errors.ts';
import { tokenString } from '../args.ts';
import { fromWire, listMatcher, toWire } from '../mailbox-names.ts';
import { parseStatusItems, statusLine } from './status-items.ts';

interface Entry {
  name: string;
  info: MailboxInfo | null;
  hasChildren: boolean;
  subscribedChild: boolean;
  /** A subscribed name that is not a mailbox. */
  orphan?: boolean;
}

function buildTree(boxes: MailboxInfo[], orphans: readonly string[]): Map<string, Entry> {
  const map = new Map<string, Entry>();
  for (const b of boxes)
    map.set(b.name, { name: b.name, info: b, hasChildren: false, subscribedChild: false });
  for (const b of boxes) {
    const parts = b.name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      let e = map.get(parent);
      if (!e) {
        e = { name: parent, info: null, hasChildren: true, subscribedChild: false };
        map.set(parent, e);
      }
      e.hasChildren = true;
      if (b.subscribed) e.subscribedChild = true;
    }
  }
  // Subscribed names that are no mailbox (RFC 3501 §6.3.6): listed only by LSUB / LIST (SUBSCRIBED).
  for (const name of orphans) {
    const e = map.get(name);
    if (e) e.orphan = true;
    else map.set(name, { name, info: null, hasChildren: false, subscribedChild: false, orphan: true });
  }
  return map;
}

function patternFromWire(raw: string, utf8: boolean): string | null {
  try {
    return fromWire(raw, utf8);
  } catch (err) {
    if (err instanceof InvalidMailboxNameError) return null;
    throw err;
  }
}

function sortNames(a: string, b: string): number {
  if (a === 'INBOX') return -1;
  if (b === 'INBOX') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function run(ctx: CommandContext, lsub: boolean): void {
  const { session, w, args } = ctx;
  const utf8 = session.utf8;
  const sel = new Set<string>();
  const ret = new Set<string>();
  let statusItems: string[] | null = null;
  let extended = false;
  const selList = lsub ? undefined : args.optionalList();
  if (selList) {
    extended = true;
    for (const t of selList) {
      const v = t.type === 'atom' ? t.value.toUpperCase() : '';
      if (!['SUBSCRIBED', 'REMOTE', 'RECURSIVEMATCH', 'SPECIAL-USE'].includes(v)) {
        throw new ImapBadError('Invalid LIST selection option');
      }
      sel.add(v);
    }
    if (sel.has('RECURSIVEMATCH') && !sel.has('SUBSCRIBED') && !sel.has('SPECIAL-USE')) {
      throw new ImapBadError('RECURSIVEMATCH requires another selection option');
    }
  }
  const reference = patternFromWire(args.astring('reference'), utf8);
  const patTok = args.next('mailbox pattern');
  const patterns: string[] = [];
  if (patTok.type === 'list' && !lsub) {
    extended = true;
    for (const p of patTok.items) patterns.push(tokenString(p, 'pattern'));
  } else patterns.push(tokenString(patTok, 'pattern'));
  if (!lsub && args.remaining) {
    const kw = args.atom('RETURN');
    if (kw.toUpperCase() !== 'RETURN') throw new ImapBadError('Expected RETURN');
    extended = true;
    const opts: ImapToken[] = args.list('return options');
    for (let i = 0; i < opts.length; i++) {
      const t = opts[i]!;
      const v = t.type === 'atom' ? t.value.toUpperCase() : '';
      if (v === 'STATUS') {
        const items = opts[++i];
        if (!items || items.type !== 'list') throw new ImapBadError('Expected STATUS items');
        statusItems = parseStatusItems(items.items);
      } else if (['SUBSCRIBED', 'CHILDREN', 'SPECIAL-USE'].includes(v)) ret.add(v);
      else throw new ImapBadError('Invalid LIST return option');
    }
  }
  args.end();

  const listCmd = lsub ? 'LSUB' : 'LIST';
  if (patterns.length === 1 && patterns[0] === '') {
    w.line(`* ${listCmd} (\\Noselect) "/" ""`);
    return;
  }
  const account = session.requireAccount();
  const subscribedOnly = lsub || sel.has('SUBSCRIBED');
  const tree = buildTree(account.listMailboxes(), subscribedOnly ? account.orphanSubscriptions() : []);
  // A pattern (or reference) that is not valid modified UTF-7 matches nothing; it is not an error.
  const matchers = patterns.map((p) => {
    const pat = patternFromWire(p, utf8);
    return reference === null || pat === null ? () => false : listMatcher(reference, pat);
  });
  const names = [...tree.keys()].sort(sortNames);
  const specialOnly = sel.has('SPECIAL-USE');
  for (const name of names) {
    if (!matchers.some((m) => m(name))) continue;
    const e = tree.get(name)!;
    const attrs: string[] = [];
    let childInfo = false;
    const isSubscribed = e.info?.subscribed ?? e.orphan ?? false;
    if (subscribedOnly && !isSubscribed) {
      if (sel.has('RECURSIVEMATCH') && e.subscribedChild) childInfo = true;
      else if (lsub && e.subscribedChild && patterns.some((p) => p.endsWith('%'))) {
        w.line(`* LSUB (\\Noselect) "/" ${toWire(name, utf8)}`);
        continue;
      } else continue;
    }
    if (specialOnly && !e.info?.specialUse && !childInfo) continue;
    // IMAP4rev2 folds LIST-EXTENDED in (RFC 9051 §7.3.1): \NonExistent in every LIST there.
    if (!e.info) attrs.push(extended || (session.rev2 && !lsub) ? '\\NonExistent' : '\\Noselect');
    if (subscribedOnly && isSubscribed && !lsub) attrs.push('\\Subscribed');
    else if (ret.has('SUBSCRIBED') && isSubscribed) attrs.push('\\Subscribed');
    // Plain LIST: children and special-use always (as Dovecot); extended: only when asked, but
    // always in IMAP4rev2 (RFC 9051 §6.3.9.5 lets a server give child information unasked).
    if (!lsub && (!extended || ret.has('CHILDREN') || session.rev2))
      attrs.push(e.hasChildren ? '\\HasChildren' : '\\HasNoChildren');
    else if (!lsub && !e.info && e.hasChildren) attrs.push('\\HasChildren');
    if (e.info?.specialUse && (lsub || !extended || ret.has('SPECIAL-USE') || specialOnly))
      attrs.push(e.info.specialUse);
    const ext = childInfo ? ' ("CHILDINFO" ("SUBSCRIBED"))' : '';
    w.line(`* ${listCmd} (${attrs.join(' ')}) "/" ${toWire(name, utf8)}${ext}`);
    if (statusItems && e.info) w.line(statusLine(account, e.info, statusItems, utf8, session.config.recent));
  }
}

/**
 * `* LIST` for one mailbox with the attributes a plain LIST gives it (children, special use), and
 * `ext` (extended data items) after the name: SELECT, CREATE and RENAME in IMAP4rev2 sessions.
 */
export function listOne(session: Session, info: MailboxInfo, ext = ''): string {
  const prefix = info.name + '/';
  const children = session
    .requireAccount()
    .listMailboxes()
    .some((b) => b.name.startsWith(prefix));
  const attrs = [children ? '\\HasChildren' : '\\HasNoChildren'];
  if (info.specialUse) attrs.push(info.specialUse);
  return `* LIST (${attrs.join(' ')}) "/" ${toWire(info.name, session.utf8)}${ext}`;
}

export const list: CommandSpec = { name: 'LIST', states: AUTHED, handle: (ctx) => run(ctx, false) };
export const lsub: CommandSpec = { name: 'LSUB', states: AUTHED, handle: (ctx) => run(ctx, true) };
