/** Form rules shared by pages. Pure: unit-tested. */
import type { BridgeStatus, Settings } from '../../app/control/contract.ts';

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

export function looksLikeEmail(s: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s.trim());
}

/** True when the text holds a PEM certificate. */
export function isPemCertificate(text: string): boolean {
  return /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(text);
}

/**
 * For each start-time setting whose value (as in the form) differs from what the running bridge
 * uses, the sentence saying when it applies; fields that match what runs get none. While the
 * servers are not running (status without ports) nothing is pending.
 */
export function pendingRestart(
  form: Settings,
  status: BridgeStatus | null,
): Partial<Record<keyof Settings, string>> {
  const out: Partial<Record<keyof Settings, string>> = {};
  if (!status) return out;
  const port = (key: 'imapPort' | 'smtpPort', name: string, inUse: number | null) => {
    if (inUse === null || !Number.isInteger(form[key])) return;
    if (form[key] === 0 || form[key] !== inUse)
      out[key] =
        `${name} port ${form[key] === 0 ? 'chosen freely' : form[key]} applies after a restart of the bridge.`;
  };
  port('imapPort', 'IMAP', status.ports.imap);
  port('smtpPort', 'SMTP', status.ports.smtp);
  const serving = status.serving;
  if (serving) {
    for (const key of ['tlsMode', 'allowPlaintextLoopback', 'imapCompress'] as const)
      if (form[key] !== serving[key]) out[key] = 'Applies after a restart of the bridge.';
  }
  return out;
}
