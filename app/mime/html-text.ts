/**
 * HTML → plain text for full-text search (not for display): drops <script>/<style>/<head> content,
 * comments and tags, turns block-level tags into line breaks and decodes character references.
 *
 * - htmlToText(html) → string
 * - decodeEntities(text) → string (named entities of the common set, &#N; and &#xN;)
 */

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  copy: '©',
  reg: '®',
  trade: '™',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  laquo: '«',
  raquo: '»',
  bull: '•',
  middot: '·',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  sect: '§',
  deg: '°',
  plusmn: '±',
  times: '×',
  divide: '÷',
  szlig: 'ß',
  shy: '\u00ad',
  zwnj: '\u200c',
  zwj: '\u200d',
};
// Latin-1 letters with accents: &eacute; &Auml; ... generated from their Unicode names
const ACCENTS: Record<string, string> = {
  grave: '\u0300',
  acute: '\u0301',
  circ: '\u0302',
  tilde: '\u0303',
  uml: '\u0308',
  ring: '\u030a',
  cedil: '\u0327',
};

function named(name: string): string | undefined {
  const n = NAMED[name] ?? NAMED[name.toLowerCase()];
  if (n !== undefined) return n;
  const m = /^([a-zA-Z])(grave|acute|circ|tilde|uml|ring|cedil)$/.exec(name);
  if (m) return ((m[1] as string) + ACCENTS[m[2] as string]).normalize('NFC');
  if (name === 'aelig') return 'æ';
  if (name === 'AElig') return 'Æ';
  if (name === 'oslash') return 'ø';
  if (name === 'Oslash') return 'Ø';
  return undefined;
}

export function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&(#[xX][0-9a-fA-F]{1,6}|#\d{1,7}|[a-zA-Z][a-zA-Z0-9]{1,31});?/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
        return '\ufffd';
      return String.fromCodePoint(code);
    }
    return named(ref) ?? whole;
  });
}

export function htmlToText(html: string): string {
  const s = html
    .replace(/<!--[\s\S]*?(?:-->|$)/g, ' ')
    .replace(/<(script|style|head|title)\b[\s\S]*?(?:<\/\1\s*>|$)/gi, ' ')
    .replace(/<(?:br|p|div|tr|li|h[1-6]|table|blockquote)\b[^>]*>/gi, '\n')
    .replace(/<\/?[a-zA-Z!?][^>]*>?/g, ' ');
  return decodeEntities(s)
    .replace(/[ \t\u00a0]+/g, ' ')
    .replace(/ ?\n[\s]*/g, '\n')
    .trim();
}
