/**
 * Redaction for bug reports: personal data (addresses, subjects, folder names, provider host
 * names, IP addresses) becomes stable placeholders (`<addr-1>`: the same value, the same
 * placeholder within one report) and secrets become `<secret>`. Everything runs in time linear in
 * the text: known strings are found with one Aho–Corasick pass (hand-written, ~60 lines: no
 * maintained package among the dependencies does multi-pattern search), addresses by scanning
 * out from each '@', and the few regular expressions have bounded or anchored repetition only.
 */

export type PersonalKind = 'addr' | 'subject' | 'folder' | 'host' | 'ip';

export interface KnownString {
  kind: PersonalKind | 'secret';
  value: string;
}

/** Folder names that say nothing about the person (special-use and common defaults). */
const STANDARD_FOLDERS = new Set(
  [
    'INBOX',
    'Sent',
    'Sent Items',
    'Sent Messages',
    'Drafts',
    'Trash',
    'Deleted Items',
    'Deleted Messages',
    'Junk',
    'Junk E-mail',
    'Spam',
    'Archive',
    'Archives',
    'All Mail',
    'Flagged',
    'Starred',
    'Important',
    'Outbox',
    'Templates',
    '[Gmail]',
  ].map((n) => n.toLowerCase()),
);

export function isStandardFolder(name: string): boolean {
  const parts = name.split('/');
  return parts.every((p) => STANDARD_FOLDERS.has(p.toLowerCase()));
}

/** Field names whose values are secrets, whatever they hold. */
const SECRET_KEYS =
  /^(?:password|passphrase|passwd|pass|pw|token|secret|key|datakey|armored|raw|body|authorization|cookie|localpassword|providerpassword|setupcode|code)$/i;
const SUBJECT_KEYS = /^(?:subject|basesubject)$/i;
const FOLDER_KEYS = /^(?:mailbox|folder|box|target|source|remotemailbox|remotename)$/i;

/** `password=X`, `token: X`, `Bearer X`, `#token=X`: the value after a secret's key word. */
const SECRET_AFTER_WORD =
  /\b(password|passphrase|passwd|token|secret|apikey|api_key|authorization)(["']?[ \t]{0,4}[=:][ \t]{0,4}["']?)([^\s"'&,;)]+)/gi;
const BEARER = /\b(Bearer|Basic)( )([A-Za-z0-9._~+/=-]+)/g;
const IPV4 = /\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b/g;
// Full (eight groups) or compressed ('::') IPv6, not inside a longer word; bounded repeats only,
// so linear time. Loopback, unspecified and one-group forms ('d::' in 'std::vector') are kept.
const IPV6 =
  /(?<![\w:.])(?:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?)(?![\w:])/gi;

const LOCAL_CHAR = /[A-Za-z0-9._%+\-=]/;
const DOMAIN_CHAR = /[A-Za-z0-9.-]/;
const WORD_CHAR = /[\p{L}\p{N}_]/u;

interface Pattern {
  length: number;
  kind: PersonalKind | 'secret';
  value: string;
}

/** Aho–Corasick automaton over lower-cased patterns (dense per-node maps of char codes). */
class Automaton {
  readonly #next: Map<number, number>[] = [new Map()];
  readonly #fail: number[] = [0];
  /** Pattern ending at this node (the longest), or -1. */
  readonly #out: number[] = [-1];
  /** Nearest node on the failure chain that ends a pattern (dictionary link), or -1. */
  readonly #dict: number[] = [-1];
  readonly patterns: Pattern[] = [];

  add(p: Pattern, lowered: string): void {
    let node = 0;
    for (let i = 0; i < lowered.length; i++) {
      const c = lowered.charCodeAt(i);
      let n = this.#next[node]!.get(c);
      if (n === undefined) {
        n = this.#next.length;
        this.#next.push(new Map());
        this.#fail.push(0);
        this.#out.push(-1);
        this.#dict.push(-1);
        this.#next[node]!.set(c, n);
      }
      node = n;
    }
    const prev = this.#out[node]!;
    // the same text known as a secret stays a secret
    if (prev < 0 || p.kind === 'secret') {
      if (prev < 0) this.#out[node] = this.patterns.length;
      else this.patterns[prev] = p;
      if (prev < 0) this.patterns.push(p);
    }
  }

  build(): void {
    const queue: number[] = [];
    for (const n of this.#next[0]!.values()) queue.push(n);
    for (let qi = 0; qi < queue.length; qi++) {
      const node = queue[qi]!;
      for (const [c, child] of this.#next[node]!) {
        let f = this.#fail[node]!;
        while (f !== 0 && !this.#next[f]!.has(c)) f = this.#fail[f]!;
        const t = this.#next[f]!.get(c);
        this.#fail[child] = t !== undefined && t !== child ? t : 0;
        const fc = this.#fail[child]!;
        this.#dict[child] = this.#out[fc]! >= 0 ? fc : this.#dict[fc]!;
        queue.push(child);
      }
    }
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** Calls `hit(end, patternIndex)` for the matches ending at each position (longest first, a few at most). */
  scan(text: string, hit: (end: number, pattern: number) => boolean): void {
    let node = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      let n = this.#next[node]!.get(c);
      while (n === undefined && node !== 0) {
        node = this.#fail[node]!;
        n = this.#next[node]!.get(c);
      }
      node = n ?? 0;
      let m = this.#out[node]! >= 0 ? node : this.#dict[node]!;
      // a bounded walk down the dictionary chain: the first match that fits its boundaries wins
      for (let k = 0; m >= 0 && k < 8; k++) {
        if (hit(i + 1, this.#out[m]!)) break;
        m = this.#dict[m]!;
      }
    }
  }
}

/** Lower case, one code unit for one (so offsets stay valid). */
function lowerSameLength(s: string): string {
  const l = s.toLowerCase();
  if (l.length === s.length) return l;
  let out = '';
  for (const ch of s) {
    const lc = ch.toLowerCase();
    out += lc.length === ch.length ? lc : ch;
  }
  return out;
}

export class Redactor {
  readonly personal: boolean;
  readonly #maps = new Map<PersonalKind, Map<string, string>>();
  readonly #ac = new Automaton();

  /**
   * @param includePersonal keep addresses, subjects, folder names, hosts and IPs (never secrets)
   * @param known values known to be personal or secret, matched exactly (case-insensitively)
   */
  constructor(includePersonal: boolean, known: KnownString[]) {
    this.personal = includePersonal;
    for (const k of known) {
      const v = k.value.trim();
      if (k.kind === 'secret' ? v.length < 3 : v.length < 4) continue;
      if (k.kind !== 'secret' && (includePersonal || (k.kind === 'folder' && isStandardFolder(v)))) continue;
      this.#ac.add({ kind: k.kind, value: v, length: v.length }, lowerSameLength(v));
    }
    this.#ac.build();
  }

  /** The placeholder of a personal value (the same value, the same placeholder). */
  placeholder(kind: PersonalKind, value: string): string {
    if (this.personal) return value;
    if (kind === 'folder' && isStandardFolder(value)) return value;
    let m = this.#maps.get(kind);
    if (!m) this.#maps.set(kind, (m = new Map()));
    const key = kind === 'subject' ? value.trim() : value.toLowerCase();
    let p = m.get(key);
    if (p === undefined) m.set(key, (p = `<${kind}-${m.size + 1}>`));
    return p;
  }

  /** Free text: known strings, addresses, IPs and secrets after key words are replaced. */
  text(s: string): string {
    let out = this.#known(s);
    out = out.replace(SECRET_AFTER_WORD, (_m, w: string, sep: string) => `${w}${sep}<secret>`);
    out = out.replace(BEARER, (_m, w: string, sp: string) => `${w}${sp}<secret>`);
    if (this.personal) return out;
    out = this.#addresses(out);
    out = out.replace(IPV4, (m, a: string, b: string, c: string, d: string) =>
      a === '127' || [a, b, c, d].some((x) => Number(x) > 255) || m === '0.0.0.0'
        ? m
        : this.placeholder('ip', m),
    );
    out = out.replace(IPV6, (m) =>
      (m.match(/[0-9a-f]+/gi)?.length ?? 0) < 2 ? m : this.placeholder('ip', m),
    );
    return out;
  }

  /** Only the known strings (secrets included); for a last pass over finished text. */
  known(s: string): string {
    return this.#known(s);
  }

  /** A log or report field by its name: secrets go whole, subjects and folders by placeholder. */
  field(key: string, value: string): string {
    if (SECRET_KEYS.test(key)) return value === '' ? value : '<secret>';
    const bare =
      value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
    if (SUBJECT_KEYS.test(key)) return this.text(this.placeholder('subject', bare));
    if (FOLDER_KEYS.test(key) && !bare.includes('@')) return this.text(this.placeholder('folder', bare));
    return this.text(value);
  }

  #known(s: string): string {
    if (this.#ac.empty || s.length === 0) return s;
    const lowered = lowerSameLength(s);
    // the chosen intervals, merged where they overlap; a secret wins the merged interval
    const starts: number[] = [];
    const ends: number[] = [];
    const pats: number[] = [];
    this.#ac.scan(lowered, (end, idx) => {
      const p = this.#ac.patterns[idx]!;
      const start = end - p.length;
      if (p.kind !== 'secret') {
        // whole words only, so a short folder name does not eat parts of other words
        if (start > 0 && WORD_CHAR.test(s[start - 1]!) && WORD_CHAR.test(s[start]!)) return false;
        if (end < s.length && WORD_CHAR.test(s[end]!) && WORD_CHAR.test(s[end - 1]!)) return false;
      }
      let top = starts.length - 1;
      if (top >= 0 && start < ends[top]!) {
        // overlaps the last interval(s): merge
        let st = start;
        let winner = idx;
        while (top >= 0 && st < ends[top]!) {
          st = Math.min(st, starts[top]!);
          const prev = this.#ac.patterns[pats[top]!]!;
          if (
            prev.kind === 'secret' ||
            (p.kind !== 'secret' && prev.length > this.#ac.patterns[winner]!.length)
          )
            winner = pats[top]!;
          starts.pop();
          ends.pop();
          pats.pop();
          top--;
        }
        starts.push(st);
        ends.push(end);
        pats.push(winner);
      } else {
        starts.push(start);
        ends.push(end);
        pats.push(idx);
      }
      return true;
    });
    if (!starts.length) return s;
    let out = '';
    let at = 0;
    for (let i = 0; i < starts.length; i++) {
      const p = this.#ac.patterns[pats[i]!]!;
      out += s.slice(at, starts[i]);
      out += p.kind === 'secret' ? '<secret>' : this.placeholder(p.kind, p.value);
      at = ends[i]!;
    }
    return out + s.slice(at);
  }

  /** Addresses: from each '@', out over the characters an address may hold (bounded). */
  #addresses(s: string): string {
    let out = '';
    let copied = 0;
    let from = 0;
    for (;;) {
      const at = s.indexOf('@', from);
      if (at < 0) break;
      let a = at;
      while (a > copied && at - a < 64 && LOCAL_CHAR.test(s[a - 1]!)) a--;
      let b = at + 1;
      while (b < s.length && b - at <= 255 && DOMAIN_CHAR.test(s[b]!)) b++;
      while (b > at + 1 && (s[b - 1] === '.' || s[b - 1] === '-')) b--;
      const domain = s.slice(at + 1, b);
      if (a < at && domain.includes('.') && !domain.startsWith('.')) {
        out += s.slice(copied, a) + this.placeholder('addr', s.slice(a, b));
        copied = b;
        from = b;
      } else from = at + 1;
    }
    return copied === 0 ? s : out + s.slice(copied);
  }
}
