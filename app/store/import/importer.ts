/**
 * `lockbridge import`: streams .eml files, mbox files and directories of them into one mailbox.
 * Never holds a whole file: mbox input is split as it is read. Messages are CRLF-normalised (the
 * stored bytes are the served bytes; RFC822.SIZE = their length), analysed once, and inserted in
 * batches (one transaction each). Messages already in the mailbox with identical bytes are skipped.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { analyzeMessage } from '../../mime/analyze.ts';
import { normalizeCrlf } from '../../mime/crlf.ts';
import { UserError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { NewMessage } from '../repos/messages.ts';
import type { Store } from '../store.ts';
import { MboxSplitter, separatorDate } from './mbox-splitter.ts';

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
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

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
    store.messages.insertBatch(mailbox.id, batch, 'local');
    summary.imported += batch.length;
    batch = [];
    batchBytes = 0;
    progress();
    await yieldLoop(); // let IMAP sessions and timers run between transactions
  };
  const add = async (input: Buffer, where: string, fallbackDate: number | null) => {
    if (input.length === 0 || input.every((b) => b === 10 || b === 13 || b === 32 || b === 9)) {
      error(`${where}: empty message`);
      summary.skipped++;
      return;
    }
    const raw = normalizeCrlf(input);
    const sha256 = createHash('sha256').update(raw).digest();
    const inBatch = batch.some((m) => m.sha256?.equals(sha256));
    if (inBatch || store.messages.findBySha256(mailbox.id, sha256) !== null) {
      summary.skipped++;
      return;
    }
    let analysis;
    try {
      analysis = analyzeMessage(raw);
    } catch (err) {
      error(`${where}: cannot be parsed (${err instanceof Error ? err.message : String(err)})`);
      summary.skipped++;
      return;
    }
    const internalDate = fallbackDate ?? analysis.headers.date ?? Date.now();
    // the full-text indexer re-derives the text later: don't hold it in the batch
    batch.push({ raw, analysis: { ...analysis, text: '' }, sha256, internalDate, flags: opts.flags ?? [] });
    batchBytes += raw.length;
    if (batch.length >= batchSize || batchBytes >= MAX_BATCH_BYTES) await flush();
  };

  for (const file of files) {
    currentFile = file;
    if (opts.signal?.aborted) break;
    const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
    let kind: 'unknown' | 'mbox' | 'eml' = 'unknown';
    const splitter = new MboxSplitter();
    const emlChunks: Buffer[] = [];
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
          emlSize += chunk.length;
          if (emlSize > MAX_EML) throw new Error(`larger than ${MAX_EML} bytes`);
          emlChunks.push(chunk);
        }
      }
      if (kind === 'mbox')
        for (const m of splitter.end()) await add(m.raw, `${file}#${++index}`, separatorDate(m.separator));
      else if (kind === 'eml') await add(Buffer.concat(emlChunks), file, null);
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
