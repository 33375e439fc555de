/** Settings schema and defaults. Values are validated at every boundary (control API, CLI). */
import { z } from 'zod';
import type { Settings } from '../control/contract.ts';

export const DEFAULT_SETTINGS: Settings = {
  encryptPolicy: 'when-possible',
  sign: true,
  attachKey: false,
  encryptAtRest: false,
  uploadEncryptedToSelf: true,
  fileSentCopies: false,
  imapPort: 1143,
  smtpPort: 1025,
  tlsMode: 'starttls',
  allowPlaintextLoopback: false,
  imapCompress: false,
  startAtLogin: false,
  keyLookupTimeoutMs: 5000,
};

const port = z.number().int().min(0).max(65535);

export const settingsPatchSchema = z
  .object({
    encryptPolicy: z.enum(['when-possible', 'always', 'never']),
    sign: z.boolean(),
    attachKey: z.boolean(),
    encryptAtRest: z.boolean(),
    uploadEncryptedToSelf: z.boolean(),
    fileSentCopies: z.boolean(),
    imapPort: port,
    smtpPort: port,
    tlsMode: z.enum(['starttls', 'tls']),
    allowPlaintextLoopback: z.boolean(),
    imapCompress: z.boolean(),
    startAtLogin: z.boolean(),
    keyLookupTimeoutMs: z.number().int().min(100).max(60000),
  })
  .partial()
  .strict();

/** Where the settings live in the store's key/value table. */
export const SETTINGS_KEY = 'bridge.settings';

export function mergeSettings(stored: Partial<Settings> | null | undefined, patch: unknown = {}): Settings {
  const parsed = settingsPatchSchema.parse(patch);
  return { ...DEFAULT_SETTINGS, ...(stored ?? {}), ...parsed };
}
