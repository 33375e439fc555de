/**
 * FETCH / UID FETCH (RFC 3501 §6.4.5, §6.4.8; RFC 3516 BINARY; RFC 7162 MODSEQ, CHANGEDSINCE;
 * RFC 8970 PREVIEW; RFC 8514 SAVEDATE; RFC 8474 EMAILID, THREADID).
 * Reads rows in batches from the backend (one synchronous call per batch), writes big literals as
 * Buffers, and waits for the socket only between batches when it is full. A big message (a row
 * with `rawSource`) is sent a piece at a time, waiting for the socket whenever it is full.
 */
import type { CommandSpec } from '../command.ts';
import { SELECTED } from '../command.ts';
import type { FetchWant, MessageRow, RawSource } from '../backend.ts';
import type { ResponseWriter } from '../writer.ts';
import { compressUids, inUidSet, parseSequenceSet, resolveSequenceSet } from '../sequence.ts';
import { parseFetch } from '../fetch/items.ts';
import type { FetchItem, SectionItem, SimpleItem as SimpleName } from '../fetch/items.ts';
import {
  fieldMatcher,
  headerFieldRanges,
  headerOnlySection,
  rootHeader,
  sectionBytes,
  sectionRange,
} from '../fetch/section.ts';
import type { FieldMatcher } from '../fetch/section.ts';
import { decodeBigLeaves, resolveBinary } from '../../mime/sections.ts';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { ImapBadError, ImapNoError } from '../errors.ts';
import { flagList, internalDate, stringValue } from '../format.ts';
import { messagePreview } from '../../mime/preview.ts';
import type { SelectedMailbox } from '../tracker.ts';
import type { Session } from '../session.ts';

/** Rows per backend call: metadata/headers are small; whole messages can be big (bounded memory). */
const BATCH_META = 1024;
const BATCH_RAW = 64;
/** Base64 parts of a big message from this size on are decoded a piece at a time for BINARY. */
const BIG_LEAF = 1 << 20;
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
function rowData(
  plans: Plan[],
  row: MessageRow,
  decoded?: ReadonlyMap<string, Buffer>,
): Map<SectionItem, Buffer> | null {
  let out: Map<SectionItem, Buffer> | null = null;
  for (const p of plans) {
    if (p.kind !== 'section' || p.fields !== null) continue;
    const it = p.it;
    let data: Buffer;
    if (it.resp === 'BINARY' || it.resp === 'BINARY.SIZE') {
      // RFC 3516: decoded content; composite parts come back with every encoded leaf decoded.
      const res = resolveBinary(
        row.raw ?? Buffer.alloc(0),
        row.parts ?? [],
        it.section.path.join('.'),
        decoded,
      );
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

/** The text of a simple FETCH item (everything but sections). */
function simpleItem(name: SimpleName, row: MessageRow): string {
  switch (name) {
    case 'UID':
      return 'UID ' + row.uid;
    case 'FLAGS':
      return 'FLAGS ' + flagList(row.flags);
    case 'INTERNALDATE':
      return 'INTERNALDATE ' + internalDate(row.internalDate);
    case 'SAVEDATE':
      return 'SAVEDATE ' + internalDate(row.saveDate);
    case 'EMAILID':
      return 'EMAILID (' + row.emailId + ')';
    // RFC 8474 §5.2: messages are not threaded here, so no thread has an id
    case 'THREADID':
      return 'THREADID NIL';
    case 'RFC822.SIZE':
      return 'RFC822.SIZE ' + row.size;
    case 'ENVELOPE':
      return 'ENVELOPE ' + (row.envelope ?? 'NIL');
    case 'BODYSTRUCTURE':
      return 'BODYSTRUCTURE ' + (row.bodyStructure ?? 'NIL');
    case 'BODY':
      return 'BODY ' + (row.body ?? 'NIL');
    case 'MODSEQ':
      return 'MODSEQ (' + row.modseq + ')';
    case 'PREVIEW':
      return 'PREVIEW ' + stringValue(messagePreview(row.raw ?? EMPTY, row.parts ?? [], PREVIEW_CHARS));
  }
}

/**
 * One FETCH response. Text is collected in a string and given to the writer before each literal
 * and at the end; if anything fails half-way, what was formatted so far is written before the
 * error propagates, so the session sees a cut line and ends with BYE (never a stray NO).
 */
function writeRow(
  w: ResponseWriter,
  seq: number,
  row: MessageRow,
  plans: Plan[],
  seenAdded: boolean,
  decoded?: ReadonlyMap<string, Buffer>,
): void {
  const data = rowData(plans, row, decoded) ?? NO_DATA;
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
      if (p.item.name === 'FLAGS') flagsWritten = true;
      s += simpleItem(p.item.name, row);
    }
    if (seenAdded && !flagsWritten) s += ' FLAGS ' + flagList(row.flags);
  } catch (err) {
    w.text(s);
    throw err;
  }
  w.text(s + ')\r\n');
}

/** The range of the message a section item sends, when it can be sent as read (see writeStreamed). */
function streamRange(p: SectionPlan, row: MessageRow, src: RawSource): [number, number] | null {
  const it = p.it;
  if (it.resp === 'BINARY' || it.resp === 'BINARY.SIZE') return null;
  const r = sectionRange(it.section, src.size, row.parts, row.header?.length ?? 0);
  if (!r || !it.partial) return r;
  const start = Math.min(r[0] + it.partial.start, r[1]);
  const end = it.partial.length === undefined ? r[1] : Math.min(r[1], start + it.partial.length);
  return [start, end];
}

/**
 * Whether a big message's FETCH response can be written as its bytes are read: every section is
 * header-only (answered from the header block) or a range of the message. BINARY (decoded
 * content), PREVIEW and the HEADER / TEXT of an encapsulated message need the whole message.
 */
function streamable(plans: Plan[], row: MessageRow, src: RawSource): boolean {
  for (const p of plans) {
    if (p.kind === 'simple') {
      if (p.item.name === 'PREVIEW') return false;
    } else if (p.fields === null && !headerOnlySection(p.it.section) && !streamRange(p, row, src))
      return false;
  }
  return true;
}

/**
 * writeRow for a big message (`rawSource`): each range section is written as its pieces are read,
 * waiting for the socket whenever it is full, so neither reading nor sending holds the event loop
 * (a 20 MB BODY[] read, inflated and sent at once held it 0.5-1 s). A piece that cannot be read
 * ends the response half-way (the session ends with BYE, as in writeRow).
 */
async function writeStreamed(
  w: ResponseWriter,
  seq: number,
  row: MessageRow,
  plans: Plan[],
  seenAdded: boolean,
  src: RawSource,
): Promise<void> {
  const headerPlans = plans.filter((p) => p.kind === 'section' && headerOnlySection(p.it.section));
  const data = rowData(headerPlans, row) ?? NO_DATA;
  let s = '* ' + seq + ' FETCH (';
  try {
    let first = true;
    let flagsWritten = false;
    for (const p of plans) {
      if (!first) s += ' ';
      first = false;
      if (p.kind === 'simple') {
        if (p.item.name === 'FLAGS') flagsWritten = true;
        s += simpleItem(p.item.name, row);
        continue;
      }
      w.text(s);
      s = '';
      const range = p.fields === null && !headerOnlySection(p.it.section) ? streamRange(p, row, src) : null;
      if (!range) {
        s = writeSection(w, p, row, data);
        continue;
      }
      w.text(p.prefix + '{' + (range[1] - range[0]) + '}\r\n');
      for await (const piece of src.read(range[0], range[1])) {
        w.bytes(piece);
        if (w.needsDrain) await w.drain();
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
        const src = row.rawSource;
        if (src && streamable(plans, shown, src)) {
          await writeStreamed(w, seq, shown, plans, seen, src);
          continue;
        }
        // a big message whose sections need it whole: read a piece at a time (and its big base64
        // parts decoded a piece at a time for BINARY), then as any other
        let decoded: Map<string, Buffer> | undefined;
        if (src) {
          shown.raw = await src.whole();
          for (const p of plans) {
            if (p.kind !== 'section' || (p.it.resp !== 'BINARY' && p.it.resp !== 'BINARY.SIZE')) continue;
            const leaves = await decodeBigLeaves(
              shown.raw,
              shown.parts ?? [],
              p.it.section.path.join('.'),
              BIG_LEAF,
              yieldLoop,
            );
            for (const [k, v] of leaves) (decoded ??= new Map()).set(k, v);
          }
        }
        writeRow(w, seq, shown, plans, seen, decoded);
      }
      if (w.needsDrain) await w.drain();
    }
  },
};
