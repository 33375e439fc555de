/** CAPABILITY lists, before and after login. */

/** What the list depends on (a Session provides it). */
export interface CapabilitySource {
  readonly state: string;
  readonly loginAllowed: boolean;
  readonly config: { readonly tlsAvailable: boolean; readonly offerCompress: boolean };
  readonly transport: { readonly secure: boolean; readonly compressed: boolean };
}

export function capabilityList(s: CapabilitySource): string[] {
  const caps = ['IMAP4rev1', 'IMAP4rev2', 'SASL-IR', 'LITERAL+', 'ID', 'ENABLE', 'IDLE'];
  if (s.state === 'notAuthenticated') {
    if (s.config.tlsAvailable && !s.transport.secure) caps.push('STARTTLS');
    if (s.loginAllowed) caps.push('AUTH=PLAIN');
    else caps.push('LOGINDISABLED');
    return caps;
  }
  caps.push(
    'NAMESPACE',
    'UIDPLUS',
    'MOVE',
    'UNSELECT',
    'CHILDREN',
    'LIST-EXTENDED',
    'LIST-STATUS',
    'SPECIAL-USE',
    'CONDSTORE',
    'QRESYNC',
    'ESEARCH',
    'ESORT',
    'CONTEXT=SEARCH',
    'CONTEXT=SORT',
    'WITHIN',
    'SEARCHRES',
    'SORT',
    'SORT=DISPLAY',
    'THREAD=ORDEREDSUBJECT',
    'THREAD=REFERENCES',
    'MULTIAPPEND',
    'BINARY',
    'UTF8=ACCEPT',
    'STATUS=SIZE',
    'PREVIEW',
    'SAVEDATE',
    'OBJECTID',
  );
  if (s.config.offerCompress && !s.transport.compressed) caps.push('COMPRESS=DEFLATE');
  return caps;
}
