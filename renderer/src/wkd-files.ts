/** The WKD export as files for the .zip: paths placed under `.well-known/`. Pure: unit-tested. */
import { base64ToBytes, type ZipEntry } from './zip.ts';

/**
 * exportWkd() returns paths relative to `.well-known/` (direct method: `openpgpkey/hu/<hash>`,
 * `openpgpkey/policy`); the archive holds the `.well-known` folder itself, ready to unpack at the
 * web root.
 */
export function wkdZipEntries(tree: Record<string, string>): ZipEntry[] {
  return Object.keys(tree)
    .sort()
    .map((path) => {
      const rel = path.replace(/^\/+/, '');
      return {
        path: rel.startsWith('.well-known/') ? rel : `.well-known/${rel}`,
        data: base64ToBytes(tree[path] ?? ''),
      };
    });
}
