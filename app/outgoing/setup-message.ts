/**
 * The Autocrypt Setup Message (standards §3f) as a message for the user's own Inbox: the payload
 * (the secret key encrypted to a fresh Setup Code) comes from keys/autocrypt/setup-message.ts; this
 * writes it with the MIME toolkit — multipart/mixed with `Autocrypt-Setup-Message: v1`, a text part
 * and the application/autocrypt-setup attachment. The code is returned to be shown to the user; it
 * never goes into the message.
 */
import { randomBytes } from 'node:crypto';
import { createSetupPayload } from '../keys/autocrypt/setup-message.ts';
import type { Keyring } from '../keys/keyring.ts';
import { buildMultipartBody, foldField, freshBoundary } from '../mime/build.ts';
import { formatRfc5322Date } from '../mime/date.ts';

export interface CreatedSetupMessage {
  setupCode: string;
  /** The whole RFC 5322 message (CRLF line ends), ready to store in the user's Inbox. */
  raw: string;
  /** The armored encrypted payload alone. */
  armored: string;
  fingerprint: string;
}

const TEXT = [
  'This message contains your secret OpenPGP key, encrypted with a Setup Code',
  'that was shown on the device that made it (the code is never sent by mail).',
  '',
  'To use the key on another device, open this message in an Autocrypt-capable',
  'mail program (or Lockbridge) there and enter the Setup Code. Keep this message',
  'as a backup of your key, and keep the Setup Code somewhere safe.',
];

function crlfLines(lines: string[]): Buffer {
  return Buffer.from(lines.map((l) => l + '\r\n').join(''), 'utf8');
}

/** The Setup Message around an armored payload (7bit throughout: the armor is ASCII). */
export function buildSetupMessage(addr: string, armored: string, date: Date): Buffer {
  const domain = addr.slice(addr.lastIndexOf('@') + 1);
  const text = Buffer.concat([
    Buffer.from(
      foldField('Content-Type', 'text/plain; charset=utf-8') + foldField('Content-Transfer-Encoding', '7bit'),
    ),
    Buffer.from('\r\n'),
    crlfLines(TEXT),
  ]);
  const file = Buffer.concat([
    Buffer.from(
      foldField('Content-Type', 'application/autocrypt-setup') +
        foldField('Content-Disposition', 'attachment; filename="autocrypt-setup-message.html"') +
        foldField('Content-Transfer-Encoding', '7bit'),
    ),
    Buffer.from('\r\n'),
    crlfLines([
      '<html><body>',
      '<p>This is the Autocrypt Setup File used to transfer your secret key between',
      'clients. Decrypt it with the Setup Code shown on the device that made it, and',
      'import the contained key.</p>',
      '<pre>',
      ...armored.trimEnd().split(/\r?\n/),
      '</pre></body></html>',
    ]),
  ]);
  const boundary = freshBoundary(text, file);
  const head =
    foldField('From', `<${addr}>`) +
    foldField('To', `<${addr}>`) +
    foldField('Subject', 'Autocrypt Setup Message') +
    foldField('Date', formatRfc5322Date(date)) +
    foldField('Message-ID', `<${randomBytes(16).toString('hex')}@${domain}>`) +
    foldField('MIME-Version', '1.0') +
    foldField('Autocrypt-Setup-Message', 'v1') +
    // one line of 78 characters, as crypto writes its multipart headers (folding is not needed)
    `Content-Type: multipart/mixed; boundary="${boundary}"\r\n` +
    '\r\n';
  return Buffer.concat([Buffer.from(head), buildMultipartBody(boundary, [text, file])]);
}

/** A new Setup Message for `email`'s active own key (marks the key backed up). */
export async function createSetupMessage(
  keyring: Keyring,
  email: string,
  opts: { now?: number } = {},
): Promise<CreatedSetupMessage> {
  const p = await createSetupPayload(keyring, email);
  const raw = buildSetupMessage(p.address, p.armored, new Date(opts.now ?? keyring.now()));
  return {
    setupCode: p.setupCode,
    raw: raw.toString('utf8'),
    armored: p.armored,
    fingerprint: p.fingerprint,
  };
}
