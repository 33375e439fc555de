/**
 * `lockbridge import`: streams .eml files, mbox files and directories of them into one mailbox.
 * Never holds a whole file: mbox input is split as it is read. Messages are CRLF-normalised (the
 * stored bytes are the served bytes; RFC822.SIZE = their length), analysed once, and inserted in
 * batches (one transaction each). Messages already in the mailbox with identical bytes are skipped.
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { UserError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { NewMessage } from '../repos/messages.ts';
import type { Store } from '../store.ts';
import { MboxSplitter } from '../../mime/mbox.ts';
import { holdSmallCache } from '../cache-hold.ts';
import { separatorDate } from './separator-date.ts';
import type { PrepareResult } from './prepare.ts';
import { PreparePool } from './prepare-pool.ts';

export interface ImportProgress {
  /** Messages imported so far. */
  count: number;
  skipped: number;
  /** Input bytes read so far. */
  bytes: number;
  /** Total input bytes (all files). */
  totalBytes: number;
  file: string;
}

export interface ImportOptions {
  store: Store;
  accountId: number;
  /** Target mailbox name (created when missing). Default INBOX. */
  mailbox?: string;
  files: readonly string[];
  logger: Logger;
  onProgress?: (p: ImportProgress) => void;
  /** Messages per transaction (default 500). */
  batchSize?: number;
  /** Flags given to every imported message (default none). */
  flags?: readonly string[];
  signal?: AbortSignal;
  /** Worker threads for MIME analysis (default min(2, cores - 1); 0 = on this thread). */
  threads?: number;
}

export interface ImportSummary {
  imported: number;
  skipped: number;
  /** One line per message or file that could not be imported. */
  errors: string[];
}

const MAX_EML = 256 * 1024 * 1024;
const MAX_ERRORS = 100;
/** Bytes per transaction: bounds memory (peak RSS) whatever the message sizes. */
const MAX_BATCH_BYTES = 2 * 1024 * 1024;
/** Messages handed to a worker at once, and how many such groups may be in flight. */
const GROUP_SIZE = 64;
const GROUP_BYTES = 1024 * 1024;
const MAX_INFLIGHT = 2;

/** Expands directories (recursively) into the files inside, in name order. */
function expand(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new UserError('import-missing-file', `cannot read ${p}: no such file`);
    }
    if (st.isDirectory())
      out.push(
        ...expand(
          readdirSync(p)
            .filter((n) => !n.startsWith('.'))
            .sort()
            .map((n) => join(p, n)),
        ),
      );
    else out.push(p);
  }
  return out;
}

export async function importFiles(opts: ImportOptions): Promise<ImportSummary> {
  const { store } = opts;
  const files = expand(opts.files);
  const totalBytes = files.reduce((n, f) => n + statSync(f).size, 0);
  const mailbox = store.mailboxes.ensure(opts.accountId, opts.mailbox ?? 'INBOX');
  const batchSize = opts.batchSize ?? 500;
  const summary: ImportSummary = { imported: 0, skipped: 0, errors: [] };
  const pool = new PreparePool({
    compress: store.messages.compressBodies,
    threads: opts.threads,
    prepareBig: (raw) => store.messages.prepareToInsert(raw),
  });
  const restoreCache = holdSmallCache(store); // the pages an import writes are not read again
  try {
    return await run();
  } finally {
    restoreCache();
    await pool.close();
  }

  async function run(): Promise<ImportSummary> {
    let bytes = 0;
    let batch: NewMessage[] = [];
    let batchBytes = 0;
    let currentFile = '';

    const progress = () =>
      opts.onProgress?.({
        count: summary.imported,
        skipped: summary.skipped,
        bytes,
        totalBytes,
        file: currentFile,
      });
    const error = (msg: string) => {
      if (summary.errors.length < MAX_ERRORS) summary.errors.push(msg);
      opts.logger.warn({ file: currentFile }, 'import: a message was skipped');
    };
    const flush = async () => {
      if (batch.length === 0) return;
      // big bodies are written ahead in chunks (one short transaction each), then linked
      await store.messages.staged(batch, (msgs) => store.messages.insertBatch(mailbox.id, msgs, 'local'));
      summary.imported += batch.length;
      batch = [];
      batchBytes = 0;
      progress();
      await yieldLoop(); // let IMAP sessions and timers run between transactions
    };
    const accept = (r: PrepareResult, where: string, fallbackDate: number | null) => {
      if (!r.ok) {
        error(`${where}: ${r.error}`);
        summary.skipped++;
        return;
      }
      const { raw, sha256, analysis, packedBody } = r.value;
      const inBatch = batch.some((m) => m.sha256?.equals(sha256));
      if (inBatch || store.messages.findBySha256(mailbox.id, sha256) !== null) {
        summary.skipped++;
        return;
      }
      const internalDate = fallbackDate ?? analysis.headers.date ?? Date.now();
      batch.push({ raw, analysis, sha256, packedBody, internalDate, flags: opts.flags ?? [] });
      batchBytes += raw.length;
    };

    // Messages are prepared (CRLF, hash, MIME analysis, compression) on worker threads in groups,
    // a few groups ahead, while this thread writes the previous ones to the store.
    interface Group {
      metas: Array<{ where: string; date: number | null }>;
      results: Promise<PrepareResult[]>;
    }
    const inflight: Group[] = [];
    let group: { raws: Buffer[]; metas: Group['metas']; bytes: number } = { raws: [], metas: [], bytes: 0 };
    const submit = () => {
      if (group.raws.length === 0) return;
      inflight.push({ metas: group.metas, results: pool.run(group.raws) });
      group = { raws: [], metas: [], bytes: 0 };
    };
    const drainOne = async () => {
      const g = inflight.shift();
      if (!g) return;
      const results = await g.results;
      for (let i = 0; i < results.length; i++) {
        accept(results[i]!, g.metas[i]!.where, g.metas[i]!.date);
        if (batch.length >= batchSize || batchBytes >= MAX_BATCH_BYTES) await flush();
      }
    };
    const add = async (input: Buffer, where: string, fallbackDate: number | null) => {
      if (!looksLikeMessage(input)) {
        error(
          `${where}: not an e-mail message (it does not start with header fields such as From: or Subject:)`,
        );
        summary.skipped++;
        return;
      }
      group.raws.push(input);
      group.metas.push({ where, date: fallbackDate });
      group.bytes += input.length;
      if (group.raws.length >= GROUP_SIZE || group.bytes >= GROUP_BYTES) {
        submit();
        while (inflight.length > MAX_INFLIGHT) await drainOne();
      }
    };

    for (const file of files) {
      currentFile = file;
      if (opts.signal?.aborted) break;
      const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
      let kind: 'unknown' | 'mbox' | 'eml' = 'unknown';
      const splitter = new MboxSplitter();
      // an .eml is copied into one buffer of the file's size as it is read (joining the chunks
      // at the end copied 20 MB in one turn of the event loop)
      let eml = Buffer.alloc(0);
      let emlSize = 0;
      let index = 0;
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          if (opts.signal?.aborted) break;
          bytes += chunk.length;
          if (kind === 'unknown') kind = chunk.subarray(0, 5).toString('latin1') === 'From ' ? 'mbox' : 'eml';
          if (kind === 'mbox') {
            for (const m of splitter.push(chunk))
              await add(m.raw, `${file}#${++index}`, separatorDate(m.separator));
          } else {
            if (emlSize + chunk.length > MAX_EML) throw new Error(`larger than ${MAX_EML} bytes`);
            if (emlSize + chunk.length > eml.length) {
              const grown = Buffer.allocUnsafeSlow(Math.max(statSync(file).size, emlSize + chunk.length));
              eml.copy(grown, 0, 0, emlSize);
              eml = grown;
            }
            emlSize += chunk.copy(eml, emlSize);
          }
        }
        if (kind === 'mbox')
          for (const m of splitter.end()) await add(m.raw, `${file}#${++index}`, separatorDate(m.separator));
        else if (kind === 'eml')
          await add(emlSize === eml.length ? eml : eml.subarray(0, emlSize), file, null);
        else {
          error(`${file}: empty file`);
          summary.skipped++;
        }
      } catch (err) {
        error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        stream.destroy();
      }
    }
    submit();
    while (inflight.length) await drainOne();
    await flush();
    progress();
    opts.logger.info(
      {
        imported: summary.imported,
        skipped: summary.skipped,
        errors: summary.errors.length,
        mailboxId: mailbox.id,
      },
      'import finished',
    );
    return summary;
  }
}

/** A message starts with a header field (`Name:`, RFC 5322 printable name); a text file does not. */
function looksLikeMessage(raw: Buffer): boolean {
  const nl = raw.indexOf(10);
  const first = raw.subarray(0, nl < 0 ? Math.min(raw.length, 1000) : Math.min(nl, 1000)).toString('latin1');
  return /^[\x21-\x39\x3b-\x7e]+[ \t]*:/.test(first);
}
