/**
 * Settings: the schema is the one definition (the type is inferred from it), with defaults.
 * Values are validated at every boundary (control API, CLI).
 */
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);

/**
 * An LDAP directory to find correspondents' S/MIME certificates in at send time (issue 19): the
 * server (ldap:// or ldaps://, host and port only), the search base, the DN to bind as (null:
 * anonymous; its password is a secret kept apart, see DIRECTORY_PASSWORD_KEY), how long one
 * send waits for it, and optionally the CA (PEM) its ldaps:// certificate is checked against
 * instead of the system's roots (a directory with an internal CA).
 */
const directorySchema = z
  .object({
    url: z
      .string()
      .max(512)
      .regex(
        /^ldaps?:\/\/(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?\/?$/i,
        'ldap://HOST[:PORT] or ldaps://HOST[:PORT]',
      ),
    baseDn: z.string().trim().min(1).max(1024),
    bindDn: z.string().trim().min(1).max(1024).nullable(),
    timeoutMs: z.number().int().min(100).max(30000),
    caPem: z
      .string()
      .max(256 * 1024)
      .refine(isCertificatePem, 'one or more PEM certificates (-----BEGIN CERTIFICATE-----)')
      .nullable()
      .optional(),
  })
  .strict();

/** Whether `pem` holds PEM certificates only, each one parsing. */
function isCertificatePem(pem: string): boolean {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (!blocks) return false;
  try {
    for (const b of blocks) new X509Certificate(b);
    return true;
  } catch {
    return false;
  }
}

export type DirectorySettings = z.infer<typeof directorySchema>;

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
  /** Where S/MIME certificates of recipients without a held one are looked up; null: nowhere. */
  smimeDirectory: directorySchema.nullable(),
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
  smimeDirectory: null,
};

/** How long a send waits for the S/MIME directory unless the user says otherwise. */
export const DIRECTORY_TIMEOUT_MS = 3000;

/**
 * Where the directory's bind password is kept in the store's key/value table (inside the
 * encrypted database, like the provider passwords; never returned by getSettings, never logged).
 */
export const DIRECTORY_PASSWORD_KEY = 'secret.smimeDirectoryPassword';

export const settingsPatchSchema = settingsSchema.partial().strict();

/** Where the settings live in the store's key/value table. */
export const SETTINGS_KEY = 'bridge.settings';

export function mergeSettings(stored: Partial<Settings> | null | undefined, patch: unknown = {}): Settings {
  const parsed = settingsPatchSchema.parse(patch);
  return { ...DEFAULT_SETTINGS, ...(stored ?? {}), ...parsed };
}
