/**
 * Test helpers for the store: temp data dirs, a cheap Argon2 setting, and a tiny local stand-in
 * for app/mime/analyze.ts (only header/text extraction good enough for store tests).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MessageAnalysis } from '../../../app/mime/types.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { createStore, openStore, type Store, type StoreOptions } from '../../../app/store/store.ts';
import type { Account } from '../../../app/store/repos/accounts.ts';

export const FAST_KDF = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

export function tempDir(prefix = 'lb-store-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function storeOpts(dir: string, extra: Partial<StoreOptions> = {}): StoreOptions {
  return {
    dir,
    passphrase: 'correct horse',
    logger: silentLogger,
    kdf: FAST_KDF,
    ftsIndexing: 'manual',
    ...extra,
  };
}

export async function newStore(dir: string, extra: Partial<StoreOptions> = {}): Promise<Store> {
  return createStore(storeOpts(dir, extra));
}

export async function reopen(dir: string, extra: Partial<StoreOptions> = {}): Promise<Store> {
  return openStore(storeOpts(dir, extra));
}

/**
 * The one local account the IMAP/SMTP tests log in as: `email` with a placeholder provider, and
 * `password` as the local password.
 */
export function addLocalAccount(store: Store, email: string, password: string): Account {
  const account = store.accounts.create({
    email,
    imap: { host: 'imap.example.test', port: 993 },
    smtp: { host: 'smtp.example.test', port: 465 },
    security: 'tls',
    providerPassword: 'provider',
  });
  store.credentials.set(password);
  return account;
}

let messageSeq = 0;

/** A raw CRLF message (a new Message-ID each call unless one is given). */
export function makeRaw(opts: {
  subject: string;
  from?: string;
  to?: string;
  body: string;
  messageId?: string;
}): Buffer {
  const lines = [
    `From: ${opts.from ?? 'Alice <alice@example.org>'}`,
    `To: ${opts.to ?? 'bob@example.net'}`,
    `Subject: ${opts.subject}`,
    'Date: Mon, 23 Nov 2026 10:00:00 +0000',
    `Message-ID: ${opts.messageId ?? `<made-${++messageSeq}@example.org>`}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    opts.body,
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

/** Minimal analysis: header fields by regex, body = text. Enough to exercise the store. */
export function fakeAnalysis(raw: Buffer): MessageAnalysis {
  const s = raw.toString('utf8');
  const split = s.indexOf('\r\n\r\n');
  const head = split < 0 ? s : s.slice(0, split);
  const body = split < 0 ? '' : s.slice(split + 4);
  const h = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(head)?.[1]?.trim() ?? '';
  const addr = (v: string) => (/<([^>]+)>/.exec(v)?.[1] ?? v).toLowerCase();
  const date = Date.parse(h('Date'));
  return {
    size: raw.length,
    envelope: `(${JSON.stringify(h('Date'))} ${JSON.stringify(h('Subject'))} NIL NIL NIL NIL NIL NIL NIL NIL)`,
    bodyStructure: '("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)',
    body: '("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 0 0)',
    parts: [
      {
        section: '',
        headerStart: 0,
        bodyStart: split < 0 ? raw.length : Buffer.byteLength(s.slice(0, split + 4)),
        bodyEnd: raw.length,
        contentType: 'text/plain',
        encoding: '7bit',
        charset: 'utf-8',
      },
    ],
    headers: {
      subject: h('Subject'),
      from: h('From'),
      to: h('To'),
      cc: h('Cc'),
      bcc: '',
      fromAddr: addr(h('From')),
      toAddr: addr(h('To')),
      ccAddr: addr(h('Cc')),
      date: Number.isNaN(date) ? null : date,
      messageId: h('Message-ID') || null,
      inReplyTo: h('In-Reply-To') || null,
      references: [],
      baseSubject: h('Subject').replace(/^(re|fwd?):\s*/i, ''),
    },
    text: body,
  };
}

export function msg(subject: string, body: string, flags: string[] = []) {
  const raw = makeRaw({ subject, body });
  return { raw, analysis: fakeAnalysis(raw), flags };
}

/** An account for tests that only need one to hold mailboxes (its servers are never contacted). */
export function testAccount(store: Store, email: string): ReturnType<Store['accounts']['create']> {
  return store.accounts.create({
    email,
    imap: { host: 'imap.invalid', port: 993 },
    smtp: { host: 'smtp.invalid', port: 465 },
    security: 'tls',
    providerPassword: 'unused',
  });
}
