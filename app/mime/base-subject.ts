/**
 * RFC 5256 §2.1 base subject extraction (for SORT SUBJECT and THREAD ORDEREDSUBJECT/REFERENCES).
 *
 * - baseSubject(decodedSubject) → the base subject: whitespace runs collapsed to one space; trailing
 *   "(fwd)" and whitespace removed; leading "Re:", "Fw:", "Fwd:" (with optional [blob]s) and leading
 *   [blob]s removed (unless that would leave nothing); "[fwd: ... ]" wrappers unwrapped; repeated
 *   until nothing changes. Case is preserved here; callers compare case-sensitively on the result
 *   after upper/lower-casing as they need (the RFC compares by i;unicode-casemap).
 * - isReplyOrForward(decodedSubject) → whether extraction removed a reply/forward marker.
 */

const BLOB = '\\[[^\\[\\]]*\\]';
const SUBJ_REFWD = new RegExp('^(?:re|fwd?)[ \\t]*(?:' + BLOB + ')?[ \\t]*:', 'i');
const SUBJ_BLOB = new RegExp('^' + BLOB + '[ \\t]*');

function step(s: string, flags: { reply: boolean }): string {
  // (2) remove trailing (fwd) and whitespace, repeatedly
  for (;;) {
    const t = s.replace(/[ \t]+$/, '');
    if (/\(fwd\)$/i.test(t)) {
      s = t.slice(0, -5);
      flags.reply = true;
      continue;
    }
    s = t;
    break;
  }
  // (3)-(5) remove leading subj-refwd / subj-blob
  for (;;) {
    const before = s;
    s = s.replace(/^[ \t]+/, '');
    const m = SUBJ_REFWD.exec(s);
    if (m) {
      s = s.slice(m[0].length);
      flags.reply = true;
    } else {
      const b = SUBJ_BLOB.exec(s);
      if (b && s.length > b[0].length) {
        const rest = s.slice(b[0].length);
        // only remove the blob if something (not empty) remains as base subject
        if (rest.replace(/^[ \t]+/, '').length > 0) s = rest;
      }
    }
    if (s === before) break;
  }
  return s;
}

function extract(subject: string): { base: string; reply: boolean } {
  const flags = { reply: false };
  // (1) collapse whitespace (folding already removed)
  let s = subject.replace(/[\r\n]/g, '').replace(/[ \t]+/g, ' ');
  for (;;) {
    const prev = s;
    s = step(s, flags);
    // (6) [fwd: ... ] wrapper
    const m = /^\[fwd:(.*)\]$/i.exec(s);
    if (m) {
      s = m[1] as string;
      flags.reply = true;
      continue;
    }
    if (s === prev) break;
  }
  return { base: s.replace(/^[ \t]+|[ \t]+$/g, ''), reply: flags.reply };
}

export function baseSubject(subject: string): string {
  return extract(subject).base;
}

export function isReplyOrForward(subject: string): boolean {
  return extract(subject).reply;
}
