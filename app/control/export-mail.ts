/**
 * `lockbridge export`: an account's mail, decrypted — exactly the bytes the local IMAP server
 * serves — as one `<uid>.eml` per message in a folder per mailbox under DIR, or as one mboxrd
 * file (mboxrdEntry: CRLF line ends kept, `>From` quoting). Streamed: one page of message rows
 * and one message at a time, so memory does not grow with the mailbox. Never overwrites: the
 * target must be new or empty; files are created 0600, folders 0700.
 */
import { lstat, mkdir, open, readdir, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ExportResult } from './contract.ts';
import type { Store } from '../store/store.ts';
import type { Account } from '../store/repos/accounts.ts';
import { normalizeMailboxName, type Mailbox } from '../store/repos/mailboxes.ts';
import type { MessageMeta } from '../store/repos/messages.ts';
import { mboxrdEntry } from '../mime/mbox.ts';
import { isDiskFull, NotFoundError, UserError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';

export interface ExportProgressEvent {
  exported: number;
  bytes: number;
  totalBytes: number | null;
}

export interface ExportOptions {
  store: Store;
  account: Account;
  /** One mailbox, or null for every mailbox of the account. */
  mailbox: string | null;
  /** Absolute path: a folder, or a file whose name ends in `.mbox`. */
  target: string;
  logger: Logger;
  /** Aborting stops the export between two messages (the call then fails with code 'cancelled'). */
  signal?: AbortSignal;
  onProgress(p: ExportProgressEvent): void;
  /**
   * Bodies evicted from the local body cache (issue 20) are fetched from the provider through this
   * (the running bridge's sync); resolves with the UIDs that could not be had. Without it, or when
   * one cannot be had, the export stops with a clear reason rather than leave a message out.
   */
  fetchBodies?: (mailboxId: number, uids: readonly number[]) => Promise<{ failed: number[] }>;
}

const PAGE = 200;

/** Characters never written into a folder name (path separators, NUL/controls, Windows' reserved ones, and `%` itself). */
const UNSAFE = /[\u0000-\u001f\u007f%/\\:*?"<>|]/gu;

/**
 * One mailbox name level as a file name that stays where it is put: unsafe characters
 * percent-encoded (so different names never meet), `.`/`..` spelled out, and a name that looks
 * like a message file (`12.eml`) kept apart from the message files beside it.
 */
function safeSegment(seg: string): string {
  const enc = (c: string) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  if (seg === '.' || seg === '..') return enc(seg);
  const s = seg.replace(UNSAFE, enc);
  return /^\d+\.eml$/i.test(s) ? s.replace('.', '%2E') : s;
}

function fsError(err: unknown, target: string, done: number, total: number): Error {
  if (err instanceof UserError) return err;
  const where = `(${done} of ${total} message(s) written; what was written is left in ${target})`;
  if (isDiskFull(err)) return new UserError('disk-full', `the disk holding ${target} is full ${where}`);
  const code = (err as { code?: string }).code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return new UserError(
      'target-not-writable',
      `cannot write to ${target}: ${code === 'EROFS' ? 'the file system is read-only' : 'permission denied'}`,
    );
  return err instanceof Error ? err : new Error(String(err));
}

function notEmpty(target: string): UserError {
  return new UserError(
    'target-not-empty',
    `${target} already exists and is not empty: nothing was written (Lockbridge never overwrites; give a new or empty target)`,
  );
}

async function parentFolder(target: string): Promise<void> {
  const parent = await stat(dirname(target)).catch(() => null);
  if (!parent?.isDirectory())
    throw new UserError('no-such-folder', `the folder ${dirname(target)} does not exist`);
}

/** Makes sure the target is new or empty, creates it; refuses anything else before a byte is written. */
async function prepareTarget(target: string, mbox: boolean): Promise<FileHandle | null> {
  // an mbox is never written through a link; a folder may be one
  const st = await (mbox ? lstat : stat)(target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (mbox) {
    if (st && !(st.isFile() && st.size === 0)) throw notEmpty(target);
    await parentFolder(target);
    // 'wx' for a new file (never through a link someone put there meanwhile); an empty one is reused
    return open(target, st ? 'r+' : 'wx', 0o600);
  }
  if (!st) {
    await parentFolder(target);
    await mkdir(target, { mode: 0o700 });
    return null;
  }
  if (!st.isDirectory())
    throw new UserError(
      'target-not-a-folder',
      `${target} is a file, not a folder (to write one mbox file, give a name ending in .mbox)`,
    );
  if ((await readdir(target)).length > 0) throw notEmpty(target);
  // an existing empty folder: a probe shows now whether it can be written to
  await writeFile(join(target, '.lockbridge-export'), '', { flag: 'wx', mode: 0o600 });
  await unlink(join(target, '.lockbridge-export'));
  return null;
}

/** The mailboxes to export, each with its folder path relative to the target (folders only). */
function plan(store: Store, account: Account, mailbox: string | null): Array<{ box: Mailbox; rel: string }> {
  let boxes: Mailbox[];
  if (mailbox === null) boxes = store.mailboxes.list(account.id);
  else {
    const box = store.mailboxes.getByName(account.id, normalizeMailboxName(mailbox));
    if (!box) {
      const names = store.mailboxes.list(account.id).map((b) => b.name);
      throw new UserError(
        'unknown-mailbox',
        `no folder "${mailbox}" in ${account.email} (its folders: ${names.join(', ') || 'none'})`,
      );
    }
    boxes = [box];
  }
  const seen = new Set<string>();
  return boxes.map((box) => {
    let rel = box.name.split('/').map(safeSegment).join('/');
    // two names equal but for case or Unicode form meet on macOS/Windows file systems: keep them apart
    const key = (r: string) => r.normalize('NFC').toLowerCase();
    if (seen.has(key(rel))) rel = `${rel}~${box.id}`;
    seen.add(key(rel));
    return { box, rel };
  });
}

/** Brings an evicted body back from the provider, or says why the export cannot go on. */
async function fetchBody(o: ExportOptions, mailboxId: number, uid: number, folder: string): Promise<void> {
  const why = `message ${uid} in ${folder} is not stored locally (evicted from the body cache)`;
  if (!o.fetchBodies)
    throw new UserError(
      'unavailable',
      `${why}: start the bridge online to export it (it is fetched from the provider)`,
    );
  let failed: number[];
  try {
    failed = (await o.fetchBodies(mailboxId, [uid])).failed;
  } catch (err) {
    throw new UserError(
      'unavailable',
      `${why} and the provider could not be asked: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (failed.includes(uid))
    throw new UserError('unavailable', `${why} and the provider did not give it back`);
}

export async function exportMail(o: ExportOptions): Promise<ExportResult> {
  const { store, account, target, logger } = o;
  const mbox = /\.mbox$/i.test(basename(target));
  const folders = plan(store, account, o.mailbox);
  let total = 0;
  let totalBytes = 0;
  for (const f of folders) {
    const s = store.mailboxes.status(f.box.id);
    total += s.messages;
    totalBytes += s.size;
  }
  let exported = 0;
  let bytes = 0;
  let lastReport = 0;
  const report = (force: boolean) => {
    const now = Date.now();
    if (!force && now - lastReport < 200) return;
    lastReport = now;
    o.onProgress({ exported, bytes, totalBytes });
  };
  let file: FileHandle | null = null;
  let fileEnd = 0; // the end of the last whole message in the mbox file
  try {
    file = await prepareTarget(target, mbox);
    for (const { box, rel } of folders) {
      const dir = mbox ? '' : join(target, ...rel.split('/'));
      if (!mbox) await mkdir(dir, { recursive: true, mode: 0o700 });
      for (let after = 0; ;) {
        // a page of rows read at once (no statement stays open across the writes below)
        const page: MessageMeta[] = [];
        for (const m of store.messages.iterateMeta(box.id, after + 1)) {
          page.push(m);
          if (page.length === PAGE) break;
        }
        if (page.length === 0) break;
        after = page[page.length - 1]!.uid;
        for (const m of page) {
          if (o.signal?.aborted)
            throw new UserError(
              'cancelled',
              `export stopped: ${exported} of ${total} message(s) written; what was written is left in ${target}`,
            );
          let raw: Buffer;
          try {
            if (store.messages.bodyEvicted(m.blobId)) await fetchBody(o, box.id, m.uid, box.name);
            raw = await store.messages.rawAsync(m.blobId);
          } catch (err) {
            if (err instanceof NotFoundError) continue; // expunged meanwhile
            throw err;
          }
          if (file) {
            const sender = store.messages.headers(m.blobId)?.fromAddr.split(/[\s,]+/)[0] ?? '';
            const pieces = mboxrdEntry(raw, sender, m.internalDate);
            const { bytesWritten } = await file.writev(pieces, fileEnd);
            const want = pieces.reduce((n, p) => n + p.length, 0);
            if (bytesWritten !== want) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
            fileEnd += want;
          } else {
            await writeFile(join(dir, `${m.uid}.eml`), raw, { flag: 'wx', mode: 0o600 });
          }
          exported++;
          bytes += m.size;
          report(false);
        }
      }
    }
    if (file) {
      await file.truncate(fileEnd);
      await file.sync();
    }
  } catch (err) {
    // an mbox keeps only whole messages
    if (file) await file.truncate(fileEnd).catch(() => {});
    if (err instanceof UserError && err.code === 'cancelled')
      logger.info({ account: account.email, exported, total }, 'export stopped by the user');
    throw fsError(err, target, exported, total);
  } finally {
    await file?.close().catch(() => {});
  }
  report(true);
  logger.info(
    { account: account.email, exported, folders: folders.length, format: mbox ? 'mbox' : 'eml' },
    'export finished',
  );
  return { exported, folders: folders.length, bytes, target, format: mbox ? 'mbox' : 'eml' };
}
