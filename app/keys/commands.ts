/**
 * `lockbridge keys ...` handlers (the LEAD wires them into app/cli): each takes the keyring and
 * returns the data (for --json) and the text to print. Errors are UserErrors (exit 1).
 */
import type { KeyChangeWarning, KeySummary } from '../control/contract.ts';
import { NotFoundError } from '../shared/errors.ts';
import { canonicalAddress } from './address.ts';
import type { GenerateOptions } from './own-keys.ts';
import { type ImportedKey, type Keyring, ownSummary, toWarning } from './keyring.ts';
import type { ContactRecord } from './types.ts';

export interface CommandOutput<T> {
  data: T;
  text: string;
}

/** Groups a fingerprint in blocks of 4 for reading. */
export function formatFingerprint(fpr: string): string {
  return fpr.replace(/(.{4})/g, '$1 ').trim();
}

const dateOnly = (iso: string | null): string => (iso ? iso.slice(0, 10) : 'never');

function summaryLine(k: KeySummary): string {
  const flags: string[] = [];
  if (k.revoked) flags.push('revoked');
  else if (k.expires && Date.parse(k.expires) <= Date.now()) flags.push('expired');
  if (k.needsBackup) flags.push('NOT BACKED UP');
  if (!k.own) flags.push(k.trust);
  if (k.use === 'pending') flags.push('pending: key change not accepted, not used');
  else if (k.use === 'superseded') flags.push('replaced');
  const kind = k.own ? 'own    ' : 'contact';
  return `${kind}  ${k.email}  ${k.fingerprint}  created ${dateOnly(k.created)}  expires ${dateOnly(k.expires)}  ${k.source}${flags.length ? '  [' + flags.join(', ') + ']' : ''}`;
}

const BACKUP_HINT =
  'Back up your key: `lockbridge keys export EMAIL --secret > key.asc` (or create an Autocrypt Setup Message). Mail encrypted to it is lost with it.';

export async function keysGenerate(
  keyring: Keyring,
  email: string,
  opts: GenerateOptions = {},
): Promise<CommandOutput<KeySummary>> {
  const rec = await keyring.own.generate(email, opts);
  const s = ownSummary(rec, keyring.now());
  return {
    data: s,
    text: [
      `Generated a key for ${rec.email}`,
      `  fingerprint ${formatFingerprint(rec.fingerprint)}`,
      `  expires     ${dateOnly(s.expires)}`,
      BACKUP_HINT.replace('EMAIL', rec.email),
    ].join('\n'),
  };
}

export async function keysImport(
  keyring: Keyring,
  armored: string,
  opts: { passphrase?: string } = {},
): Promise<CommandOutput<ImportedKey[]>> {
  const res = await keyring.importKeys(
    armored,
    opts.passphrase === undefined ? {} : { passphrase: opts.passphrase },
  );
  const lines = res.map((r) => {
    if (r.own)
      return `imported own secret key ${formatFingerprint(r.fingerprint)} for ${r.emails.join(', ')}`;
    const outcomes = r.outcomes.map((o) => `${o.email}: ${describeOutcome(o.result)}`).join('; ');
    return `imported ${formatFingerprint(r.fingerprint)} — ${outcomes}`;
  });
  return { data: res, text: lines.join('\n') };
}

function describeOutcome(r: ImportedKey['outcomes'][number]['result']): string {
  switch (r) {
    case 'added':
      return 'added';
    case 'updated':
      return 'updated (same key)';
    case 'replaced':
      return 'now used instead of the previous key';
    case 'flagged':
      return 'differs from the key in use: flagged for review';
    case 'ignored':
      return 'stored, but expired, revoked or unable to encrypt (not used)';
  }
}

/**
 * Exports armored keys: an own address's public key (or, with `secret`, its secret keys —
 * protected with AES-256/iterated S2K when a passphrase is given — which marks them backed up);
 * for a contact, the public key in use.
 */
export async function keysExport(
  keyring: Keyring,
  email: string,
  opts: { secret?: boolean; passphrase?: string } = {},
): Promise<CommandOutput<string>> {
  const addr = canonicalAddress(email);
  let armored: string;
  if (opts.secret) {
    armored = await keyring.own.exportSecret(
      addr,
      opts.passphrase === undefined ? {} : { passphrase: opts.passphrase },
    );
  } else if (keyring.own.active(addr)) {
    armored = keyring.own.exportPublic(addr);
  } else {
    const use = await keyring.contacts.encryptionKeyFor(addr);
    if (!use) throw new NotFoundError(`usable key for ${addr}`);
    armored = use.record.armored;
  }
  return { data: armored, text: armored.endsWith('\n') ? armored.slice(0, -1) : armored };
}

export function keysList(
  keyring: Keyring,
): CommandOutput<{ keys: KeySummary[]; warnings: KeyChangeWarning[] }> {
  const keys = keyring.listKeys();
  const warnings = keyring.keyWarnings();
  const lines = keys.length
    ? keys.map(summaryLine)
    : ['no keys (generate one with `lockbridge keys generate EMAIL`)'];
  for (const w of warnings)
    lines.push(
      `WARNING key change for ${w.email}: ${w.oldFingerprint} → ${w.newFingerprint} (from ${w.source}, ${w.seenAt.slice(0, 10)})`,
    );
  if (keys.some((k) => k.needsBackup)) lines.push(BACKUP_HINT);
  return { data: { keys, warnings }, text: lines.join('\n') };
}

export interface KeyDetails {
  email: string;
  own: KeySummary[];
  contact: KeySummary[];
  inUse: string | null;
  settings: ContactRecord | null;
  warnings: KeyChangeWarning[];
  needsBackup: boolean;
}

export async function keysShow(keyring: Keyring, email: string): Promise<CommandOutput<KeyDetails>> {
  const addr = canonicalAddress(email);
  const all = keyring.listKeys().filter((k) => k.email === addr);
  const own = all.filter((k) => k.own);
  const contact = all.filter((k) => !k.own);
  const warnings = keyring.contacts
    .unresolvedChanges()
    .filter((c) => c.email === addr)
    .map(toWarning);
  const use = own.length ? null : await keyring.contacts.encryptionKeyFor(addr);
  if (all.length === 0) throw new NotFoundError(`key for ${addr}`);
  const data: KeyDetails = {
    email: addr,
    own,
    contact,
    inUse: own.length ? (keyring.own.active(addr)?.fingerprint ?? null) : (use?.record.fingerprint ?? null),
    settings: keyring.getContact(addr),
    warnings,
    needsBackup: keyring.own.needsBackup(addr),
  };
  const lines = [addr];
  for (const k of [...own, ...contact]) {
    lines.push(
      `  ${k.own ? 'own key' : 'key'}  ${formatFingerprint(k.fingerprint)}${k.fingerprint === data.inUse ? '  (in use)' : ''}`,
    );
    lines.push(
      `    source ${k.source}, trust ${k.trust}, created ${dateOnly(k.created)}, expires ${dateOnly(k.expires)}${k.revoked ? ', REVOKED' : ''}`,
    );
  }
  if (!data.inUse) lines.push('  no usable key: mail to this address cannot be encrypted');
  for (const w of warnings)
    lines.push(
      `  WARNING: new key ${formatFingerprint(w.newFingerprint)} seen via ${w.source} on ${w.seenAt.slice(0, 10)} — not used until accepted`,
    );
  if (data.settings)
    lines.push(
      `  settings: encrypt ${data.settings.encrypt ?? 'default'}, sign ${data.settings.sign ?? 'default'}, attach key ${data.settings.attachKey ?? 'default'}`,
    );
  if (data.needsBackup) lines.push('  ' + BACKUP_HINT.replace('EMAIL', addr));
  return { data, text: lines.join('\n') };
}
