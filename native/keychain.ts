/**
 * The OS keychain seam. The Electron shell implements it with safeStorage (and reports
 * `available() === false` where safeStorage has no real keyring, e.g. Linux `basic_text`);
 * the headless CLI passes none.
 */
export interface KeychainWrapper {
  available(): boolean;
  wrap(key: Buffer): Buffer;
  unwrap(blob: Buffer): Buffer;
}
