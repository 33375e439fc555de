/** Form rules shared by pages. Pure: unit-tested. */
import type { Settings } from '../../app/control/contract.ts';

export const MIN_PASSPHRASE = 8;

/** The problem with a new passphrase and its repetition, or null when acceptable. */
export function passphraseProblem(pass: string, repeat: string): string | null {
  if (pass.length < MIN_PASSPHRASE) return `The passphrase needs at least ${MIN_PASSPHRASE} characters.`;
  if (pass !== repeat) return 'The two passphrases are not the same.';
  return null;
}

/** Only the fields that differ, for updateSettings. */
export function settingsPatch(before: Settings, after: Settings): Partial<Settings> {
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(after) as (keyof Settings)[]) {
    if (after[key] !== before[key]) patch[key] = after[key];
  }
  return patch as Partial<Settings>;
}

/** Settings the running servers read only at start. */
export const RESTART_SETTINGS: readonly (keyof Settings)[] = [
  'imapPort',
  'smtpPort',
  'tlsMode',
  'allowPlaintextLoopback',
  'imapCompress',
];

export function looksLikeEmail(s: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s.trim());
}

/** True when the text holds a PEM certificate. */
export function isPemCertificate(text: string): boolean {
  return /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(text);
}
