/**
 * Settings: the schema is the one definition (the type is inferred from it), with defaults.
 * Values are validated at every boundary (control API, CLI).
 */
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);

const settingsSchema = z.object({
  encryptPolicy: z.enum(['when-possible', 'always', 'never']),
  sign: z.boolean(),
  attachKey: z.boolean(),
  /** Which standard encrypts to a recipient for whom both an OpenPGP key and an S/MIME certificate are held. */
  preferredStandard: z.enum(['openpgp', 'smime']),
  encryptAtRest: z.boolean(),
  uploadEncryptedToSelf: z.boolean(),
  fileSentCopies: z.boolean(),
  imapPort: port,
  smtpPort: port,
  /** How local clients reach the servers: STARTTLS on the plain ports, or implicit TLS. */
  tlsMode: z.enum(['starttls', 'tls']),
  allowPlaintextLoopback: z.boolean(),
  /** Offer COMPRESS=DEFLATE (RFC 4978) on the local IMAP server (applies at the next start). */
  imapCompress: z.boolean(),
  startAtLogin: z.boolean(),
  /** How long a send waits for WKD / keys.openpgp.org before going on without the key. */
  keyLookupTimeoutMs: z.number().int().min(100).max(60000),
  /**
   * Local budget for message bodies in MB (issue 20); null keeps every body. Over the budget, the
   * bodies of the least recently read messages are dropped locally and fetched again from the
   * provider when a client asks for them (structure, size and flags always stay local).
   */
  bodyCacheMB: z
    .number()
    .int()
    .min(0)
    .max(16 * 1024 * 1024)
    .nullable(),
});

export type Settings = z.infer<typeof settingsSchema>;
export type EncryptPolicy = Settings['encryptPolicy'];

export const DEFAULT_SETTINGS: Settings = {
  encryptPolicy: 'when-possible',
  sign: true,
  attachKey: false,
  preferredStandard: 'openpgp',
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
  bodyCacheMB: null,
};

export const settingsPatchSchema = settingsSchema.partial().strict();

/** Where the settings live in the store's key/value table. */
export const SETTINGS_KEY = 'bridge.settings';

export function mergeSettings(stored: Partial<Settings> | null | undefined, patch: unknown = {}): Settings {
  const parsed = settingsPatchSchema.parse(patch);
  return { ...DEFAULT_SETTINGS, ...(stored ?? {}), ...parsed };
}
