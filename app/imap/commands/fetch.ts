/**
 * FETCH / UID FETCH (RFC 3501 §6.4.5, §6.4.8; RFC 3516 BINARY; RFC 7162 MODSEQ, CHANGEDSINCE;
 * RFC 8970 PREVIEW; RFC 8514 SAVEDATE; RFC 8474 EMAILID, THREADID).
 * Reads rows in batches from the backend (one synchronous call per batch), writes big literals as
 * Buffers, and waits for the socket only between batches when it is full.
 */
import type { CommandSpec } from '../command.ts';
import { SELECTED } from '../command.ts';
import type { FetchWant, MessageRow } from '../backend.ts';
import type { ResponseWriter } from '../writer.ts';
import { compressUids, inUidSet, parseSequenceSet, resolveSequenceSet } from '../sequence.ts';
import { parseFetch } from '../fetch/items.ts';
import type { FetchItem, SectionItem } from '../fetch/items.ts';
import {
  fieldMatcher,
  headerFieldRanges,
  headerOnlySection,
  rootHeader,
  sectionBytes,
} from '../fetch/section.ts';
import type { FieldMatcher } from '../fetch/section.ts';
import { resolveBinary } from '../../mime/sections.ts';
import { ImapBadError, ImapNoError } from '../errors.ts';
import { flagList, internalDate, stringValue } from '../format.ts';
import { messagePreview } from '../../mime/preview.ts';
import type { SelectedMailbox } from '../tracker.ts';
import type { Session } from '../session.ts';

/** Rows per backend call: metadata/headers are small; whole messages can be big (bounded memory). */
const BATCH_META = 1024;
const BATCH_RAW = 64;
/** RFC 8970 §3.3: a preview is at most 256 characters. */
const PREVIEW_CHARS = 256;

function isSevenBit(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0 || c > 0x7f) return false;
  }
  return true;
}

function sectionName(it: SectionItem): string {
  if (it.resp === 'RFC822' || it.resp === 'RFC822.HEADER' || it.resp === 'RFC822.TEXT') return it.resp;
  const base = `${it.resp}[${it.section.label}]`;
  return it.partial ? `${base}<${it.partial.start}>` : base;
}

/**
 * The bytes of every section item of a row except direct HEADER.FIELDS, resolved before anything
 * of the row is written: a failure here becomes a tagged NO, never a cut FETCH response.
 */
function rowData(plans: Plan[], row: MessageRow): Map<SectionItem, Buffer> | null {
  let out: Map<SectionItem, Buffer> | null = null;
  for (const p of plans) {
    if (p.kind !== 'section' || p.fields !== null) continue;
    const it = p.it;
    let data: Buffer;
    if (it.resp === 'BINARY' || it.resp === 'BINARY.SIZE') {
      // RFC 3516: decoded content; composite parts come back with every encoded leaf decoded.
      const res = resolveBinary(row.raw ?? Buffer.alloc(0), row.parts ?? [], it.section.path.join('.'));
      if (!res.ok && res.reason === 'unknown-cte') {
        throw new ImapNoError('UNKNOWN-CTE', 'Unknown content-transfer-encoding');
      }
      data = res.ok ? res.data : EMPTY;
    } else {
      data = sectionBytes(it.section, row.raw ?? row.header ?? EMPTY, row.parts, row.header);
    }
    (out ??= new Map()).set(it, data);
  }
  return out;
}

/** A section item as it is written: its response name plus a space, computed once per command. */
interface SectionPlan {
  it: SectionItem;
  prefix: string;
  /** Top-level HEADER.FIELDS(.NOT) without partial: filtered straight into the writer. */
  fields: FieldMatcher | null;
  not: boolean;
}

type Plan = { kind: 'simple'; item: FetchItem & { kind: 'simple' } } | ({ kind: 'section' } & SectionPlan);

function plan(items: FetchItem[]): Plan[] {
  return items.map((it): Plan => {
    if (it.kind === 'simple') return { kind: 'simple', item: it };
    const t = it.section.text;
    const direct =
      it.resp === 'BODY' &&
      it.partial === null &&
      it.section.path.length === 0 &&
      (t === 'HEADER.FIELDS' || t === 'HEADER.FIELDS.NOT');
    return {
      kind: 'section',
      it,
      prefix: sectionName(it) + ' ',
      fields: direct ? fieldMatcher(it.section) : null,
      not: t === 'HEADER.FIELDS.NOT',
    };
  });
}

const CRLF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);
const RANGES: number[] = [];
const NO_DATA = new Map<SectionItem, Buffer>();

/** Writes one section item; returns text that follows it but is not written yet. */
function writeSection(
  w: ResponseWriter,
  p: SectionPlan,
  row: MessageRow,
  data0: Map<SectionItem, Buffer>,
): string {
  const it = p.it;
  if (p.fields !== null) {
    const raw = row.raw ?? row.header ?? EMPTY;
    const hdr = rootHeader(raw, row.parts, row.header);
    const total = headerFieldRanges(hdr, p.fields, p.not, RANGES) + 2;
    w.text(p.prefix + '{' + total + '}\r\n');
    for (let i = 0; i < RANGES.length; i += 2) w.copy(hdr, RANGES[i]!, RANGES[i + 1]!);
    w.copy(CRLF, 0, 2);
    return '';
  }
  let data = data0.get(it) ?? EMPTY;
  let literal8 = false;
  if (it.resp === 'BINARY' || it.resp === 'BINARY.SIZE') {
    if (it.resp === 'BINARY.SIZE') return sectionName(it) + ' ' + data.length;
    // Like Dovecot: literal8 whenever the decoded bytes are not 7-bit text.
    literal8 = !isSevenBit(data);
  }
  if (it.partial) {
    const start = it.partial.start;
    if (start >= data.length) data = EMPTY;
    else data = data.subarray(start, it.partial.length === undefined ? undefined : start + it.partial.length);
  }
  w.text(p.prefix);
  w.literal(data, literal8);
  return '';
}

/**
 * One FETCH response. Text is collected in a string and given to the writer before each literal
 * and at the end; if anything fails half-way, what was formatted so far is written before the
 * error propagates, so the session sees a cut line and ends with BYE (never a stray NO).
 */
function writeRow(w: ResponseWriter, seq: number, row: MessageRow, plans: Plan[], seenAdded: boolean): void {
  const data = rowData(plans, row) ?? NO_DATA;
  let s = '* ' + seq + ' FETCH (';
  try {
    let first = true;
    let flagsWritten = false;
    for (const p of plans) {
      if (!first) s += ' ';
      first = false;
      if (p.kind === 'section') {
        w.text(s);
        s = '';
        s = writeSection(w, p, row, data);
        continue;
      }
      switch (p.item.name) {
        case 'UID':
          s += 'UID ' + row.uid;
          break;
        case 'FLAGS':
          s += 'FLAGS ' + flagList(row.flags);
          flagsWritten = true;
          break;
        case 'INTERNALDATE':
          s += 'INTERNALDATE ' + internalDate(row.internalDate);
          break;
        case 'SAVEDATE':
          s += 'SAVEDATE ' + internalDate(row.saveDate);
          break;
        case 'EMAILID':
          s += 'EMAILID (' + row.emailId + ')';
          break;
        // RFC 8474 §5.2: messages are not threaded here, so no thread has an id
        case 'THREADID':
          s += 'THREADID NIL';
          break;
        case 'RFC822.SIZE':
          s += 'RFC822.SIZE ' + row.size;
          break;
        case 'ENVELOPE':
          s += 'ENVELOPE ' + (row.envelope ?? 'NIL');
          break;
        case 'BODYSTRUCTURE':
          s += 'BODYSTRUCTURE ' + (row.bodyStructure ?? 'NIL');
          break;
        case 'BODY':
          s += 'BODY ' + (row.body ?? 'NIL');
          break;
        case 'MODSEQ':
          s += 'MODSEQ (' + row.modseq + ')';
          break;
        case 'PREVIEW':
          s += 'PREVIEW ' + stringValue(messagePreview(row.raw ?? EMPTY, row.parts ?? [], PREVIEW_CHARS));
          break;
      }
    }
    if (seenAdded && !flagsWritten) s += ' FLAGS ' + flagList(row.flags);
  } catch (err) {
    w.text(s);
    throw err;
  }
  w.text(s + ')\r\n');
}

/** Set \Seen on messages that lack it (non-PEEK body fetch); returns the UIDs that changed. */
function markSeen(session: Session, sel: SelectedMailbox, uids: number[]): Set<number> {
  const account = sel.account;
  const unseen: number[] = [];
  for (let i = 0; i < uids.length; i += 4096) {
    for (const r of account.fetch(sel.id, uids.slice(i, i + 4096), {})) {
      if (!r.flags.includes('\\Seen')) unseen.push(r.uid);
    }
  }
  if (unseen.length) account.storeFlags(sel.id, unseen, 'add', ['\\Seen'], undefined, session);
  return new Set(unseen);
}

export const fetch: CommandSpec = {
  name: 'FETCH',
  states: SELECTED,
  uid: true,
  allowsExpunge: (uid) => uid,
  async handle({ session, w, args, uid }) {
    const sel = session.requireSelected();
    const set = parseSequenceSet(args.atom('sequence set'));
    const req = parseFetch(args.rest());
    const items = req.items;
    if (uid && !items.some((i) => i.kind === 'simple' && i.name === 'UID'))
      items.unshift({ kind: 'simple', name: 'UID' });
    if (req.changedSince !== null) {
      session.enableCondstore();
      if (!items.some((i) => i.kind === 'simple' && i.name === 'MODSEQ'))
        items.push({ kind: 'simple', name: 'MODSEQ' });
    }
    if (items.some((i) => i.kind === 'simple' && i.name === 'MODSEQ')) session.enableCondstore();
    if (req.vanished) {
      if (!uid || !session.enabled.has('QRESYNC'))
        throw new ImapBadError('VANISHED needs UID FETCH and QRESYNC');
      // RFC 7162 §3.2.6: UIDs of the set expunged since CHANGEDSINCE, before the FETCH data.
      const max = Math.max(sel.uidNext - 1, 1);
      const gone = sel.account.expungedSince(sel.id, req.changedSince!).filter((u) => inUidSet(set, u, max));
      if (gone.length) w.line(`* VANISHED (EARLIER) ${compressUids(gone)}`);
    }
    const uids = resolveSequenceSet(set, sel.uids, uid, sel.saved);
    if (!uids.length) return;

    const want: FetchWant = {};
    // Header sections that are all HEADER.FIELDS: the backend may send only those fields' lines.
    let fields: string[] | null = [];
    for (const it of items) {
      if (it.kind === 'simple') {
        if (it.name === 'ENVELOPE' || it.name === 'BODYSTRUCTURE' || it.name === 'BODY') want.analysis = true;
        // the preview is made from the stored (decrypted) message's text parts
        if (it.name === 'PREVIEW') want.raw = want.analysis = true;
        if (it.name === 'EMAILID') want.emailId = true;
      } else if (headerOnlySection(it.section) && it.resp !== 'BINARY' && it.resp !== 'BINARY.SIZE') {
        want.header = true;
        if (fields && it.section.text === 'HEADER.FIELDS') fields.push(...it.section.fields);
        else fields = null;
      } else {
        want.raw = true;
        // Part offsets only for numbered parts and BINARY; BODY[] / [TEXT] / [HEADER] need none.
        if (it.section.path.length > 0 || it.resp === 'BINARY' || it.resp === 'BINARY.SIZE')
          want.analysis = true;
      }
    }
    if (want.raw) want.header = false;
    else if (want.header && fields) want.headerFields = fields;
    let seenAdded: Set<number> | null = null;
    if (req.setsSeen && !sel.readOnly) seenAdded = markSeen(session, sel, uids);

    const account = sel.account;
    const changedSince = req.changedSince;
    const batch = want.raw ? BATCH_RAW : BATCH_META;
    const plans = plan(items);
    const wantsFlags = items.some((i) => i.kind === 'simple' && i.name === 'FLAGS');
    for (let i = 0; i < uids.length; i += batch) {
      const rows = account.fetch(sel.id, uids.length <= batch ? uids : uids.slice(i, i + batch), want);
      for (const row of rows) {
        if (changedSince !== null && row.modseq <= changedSince) continue;
        const seq = sel.seqOf(row.uid);
        if (!seq) continue;
        const seen = seenAdded !== null && seenAdded.has(row.uid);
        if (wantsFlags || seen) {
          // Keywords in FLAGS first; a queued older update of this message is now stale.
          sel.announceKeywords(w, row.flags);
          if (sel.hasFlagUpdates) sel.told(row.uid, row.flags, row.modseq, false);
        }
        const shown =
          sel.recent.size && sel.recent.has(row.uid) ? { ...row, flags: sel.shown(row.uid, row.flags) } : row;
        writeRow(w, seq, shown, plans, seen);
      }
      if (w.needsDrain) await w.drain();
    }
  },
};
