/**
 * The disk under the data directory: which one it is (mount point and device, for messages a user
 * can act on) and how much room is left on it.
 */
import { readFileSync, statSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** The mount point of the file system holding dir (the highest ancestor on the same device). */
export function mountPointOf(dir: string): string {
  let cur = resolve(dir);
  let dev: number;
  try {
    dev = statSync(cur).dev;
  } catch {
    return cur;
  }
  for (;;) {
    const up = dirname(cur);
    if (up === cur) return cur;
    try {
      if (statSync(up).dev !== dev) return cur;
    } catch {
      return cur;
    }
    cur = up;
  }
}

/** The device mounted at a mount point, from /proc/self/mounts (Linux); null elsewhere. */
function deviceAt(mount: string): string | null {
  let text: string;
  try {
    text = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return null;
  }
  let found: string | null = null;
  for (const line of text.split('\n')) {
    const [dev, at] = line.split(' ');
    // /proc/mounts escapes spaces as \040; a later line for the same point is the one on top
    if (dev && at?.replace(/\\040/g, ' ') === mount) found = dev;
  }
  return found;
}

/** Bytes an unprivileged writer can still use on the disk holding dir, or null when unknown. */
export function freeBytes(dir: string): number | null {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

/** The one sentence shown (status, CLI, control API, logs) while the data directory's disk is full. */
export function diskFullMessage(dir: string): string {
  const mount = mountPointOf(dir);
  const dev = deviceAt(mount);
  const disk = dev && dev !== mount ? `${mount} (${dev})` : mount;
  return (
    `the disk ${disk} holding the data directory ${resolve(dir)} is full: free some space there; ` +
    `stored mail can still be read, new mail is refused until then and Lockbridge resumes by itself`
  );
}
