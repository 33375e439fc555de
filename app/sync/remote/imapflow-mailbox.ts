/**
 * RemoteMailbox over imapflow: each method is one imapflow call, with imapflow's numbers
 * (UIDVALIDITY and MODSEQ as bigint) turned into numbers and its `false` answers into null or [].
 */
import type { FetchMessageObject, ImapFlow, MailboxObject } from 'imapflow';
import { ProviderError } from './errors.ts';
import type {
  AppendResult,
  CopyResult,
  FetchFields,
  FolderStatus,
  ListedFolder,
  MailboxLock,
  RemoteMailbox,
  RemoteMessage,
  SelectedMailbox,
  UidSearch,
} from './remote-mailbox.ts';

/** imapflow's command runner: its public mailboxClose() can only send CLOSE, this can UNSELECT. */
interface Runner {
  run(command: 'CLOSE', options: { unselect: true }): Promise<boolean | undefined>;
}

function num(v: bigint | number | undefined): number | undefined {
  return v === undefined ? undefined : Number(v);
}

/** The selected mailbox as imapflow keeps it: read through, so EXISTS updates show. */
class Selected implements SelectedMailbox {
  readonly #mb: MailboxObject;
  constructor(mb: MailboxObject) {
    this.#mb = mb;
  }
  get path(): string {
    return this.#mb.path;
  }
  get readOnly(): boolean {
    return Boolean(this.#mb.readOnly);
  }
  get uidValidity(): number {
    return Number(this.#mb.uidValidity ?? 0);
  }
  get uidNext(): number {
    return this.#mb.uidNext;
  }
  get highestModseq(): number {
    return Number(this.#mb.highestModseq ?? 0);
  }
  get exists(): number {
    return this.#mb.exists;
  }
}

function message(m: FetchMessageObject): RemoteMessage {
  const out: RemoteMessage = { uid: m.uid };
  if (m.size !== undefined) out.size = m.size;
  if (m.flags) out.flags = m.flags;
  if (m.internalDate !== undefined) out.internalDate = m.internalDate;
  if (m.source) out.source = m.source;
  if (m.headers) out.headers = m.headers;
  if (m.envelope?.messageId !== undefined) out.messageId = m.envelope.messageId;
  if (m.bodyStructure?.type !== undefined) out.contentType = m.bodyStructure.type;
  return out;
}

function copyResult(r: { uidValidity?: bigint; uidMap?: Map<number, number> } | false): CopyResult | null {
  if (!r) return null;
  const out: CopyResult = {};
  if (r.uidValidity !== undefined) out.uidValidity = Number(r.uidValidity);
  if (r.uidMap) out.uidMap = r.uidMap;
  return out;
}

export class ImapflowMailbox implements RemoteMailbox {
  readonly #c: ImapFlow;

  constructor(client: ImapFlow) {
    this.#c = client;
  }

  get usable(): boolean {
    return this.#c.usable;
  }

  get selected(): SelectedMailbox | null {
    return this.#c.mailbox ? new Selected(this.#c.mailbox) : null;
  }

  hasCapability(name: string): boolean {
    return this.#c.capabilities.has(name);
  }

  capabilityNames(): string[] {
    return [...this.#c.capabilities.keys()];
  }

  on(event: 'close' | 'change' | 'error', listener: (err?: unknown) => void): void {
    if (event === 'change') for (const e of ['exists', 'expunge', 'flags']) this.#c.on(e, () => listener());
    else this.#c.on(event, listener);
  }

  async list(opts: { counts?: boolean } = {}): Promise<ListedFolder[]> {
    const list = opts.counts ? await this.#c.list({ statusQuery: { messages: true } }) : await this.#c.list();
    return list.map((m) => {
      const f: ListedFolder = { path: m.path, delimiter: m.delimiter, subscribed: m.subscribed };
      if (m.specialUse) f.specialUse = m.specialUse;
      if (m.flags) f.flags = m.flags;
      if (typeof m.status?.messages === 'number') f.messages = m.status.messages;
      return f;
    });
  }

  async status(
    path: string,
    fields: { uidNext?: boolean; uidValidity?: boolean; highestModseq?: boolean; messages?: boolean },
  ): Promise<FolderStatus | null> {
    const st = await this.#c.status(path, fields);
    if (!st) return null;
    const out: FolderStatus = {};
    if (st.uidNext !== undefined) out.uidNext = st.uidNext;
    if (st.uidValidity !== undefined) out.uidValidity = num(st.uidValidity)!;
    if (st.highestModseq !== undefined) out.highestModseq = num(st.highestModseq)!;
    if (st.messages !== undefined) out.messages = st.messages;
    return out;
  }

  async lock(path: string, opts?: { readOnly?: boolean }): Promise<MailboxLock> {
    return await this.#c.getMailboxLock(path, opts);
  }

  async open(path: string, opts: { readOnly: boolean }): Promise<void> {
    await this.#c.mailboxOpen(path, opts);
  }

  async unselect(): Promise<void> {
    await (this.#c as unknown as Runner).run('CLOSE', { unselect: true });
  }

  async *fetch(
    range: string,
    fields: FetchFields,
    opts: { changedSince?: number } = {},
  ): AsyncIterable<RemoteMessage> {
    const query = {
      uid: true,
      ...(fields.size ? { size: true } : {}),
      ...(fields.flags ? { flags: true } : {}),
      ...(fields.internalDate ? { internalDate: true } : {}),
      ...(fields.source ? { source: true } : {}),
      ...(fields.headers ? { headers: true } : {}),
      ...(fields.messageId ? { envelope: true } : {}),
      ...(fields.contentType ? { bodyStructure: true } : {}),
    };
    const options = opts.changedSince
      ? { uid: true, changedSince: BigInt(opts.changedSince) }
      : { uid: true };
    for await (const m of this.#c.fetch(range, query, options)) yield message(m);
  }

  async search(criteria: UidSearch): Promise<number[]> {
    return (await this.#c.search(criteria, { uid: true })) || [];
  }

  async searchText(uids: string, key: 'body' | 'text', needle: string): Promise<number[]> {
    const found = await this.#c.search({ uid: uids, [key]: needle }, { uid: true });
    if (!Array.isArray(found))
      throw new ProviderError('protocol', `the provider refused a SEARCH ${key.toUpperCase()}`);
    return found;
  }

  async setFlags(uids: string, flags: string[]): Promise<boolean> {
    return await this.#c.messageFlagsSet(uids, flags, { uid: true });
  }

  async addFlags(uids: string, flags: string[]): Promise<boolean> {
    return await this.#c.messageFlagsAdd(uids, flags, { uid: true });
  }

  async deleteMessages(uids: string): Promise<boolean> {
    return await this.#c.messageDelete(uids, { uid: true });
  }

  async copy(uids: string, target: string): Promise<CopyResult | null> {
    return copyResult(await this.#c.messageCopy(uids, target, { uid: true }));
  }

  async move(uids: string, target: string): Promise<CopyResult | null> {
    return copyResult(await this.#c.messageMove(uids, target, { uid: true }));
  }

  async append(path: string, raw: Buffer, flags: string[], date?: Date): Promise<AppendResult | null> {
    const res = await this.#c.append(path, raw, flags, date);
    if (!res) return null;
    const out: AppendResult = {};
    if (res.uid !== undefined) out.uid = res.uid;
    if (res.uidValidity !== undefined) out.uidValidity = Number(res.uidValidity);
    return out;
  }

  async createFolder(path: string): Promise<void> {
    await this.#c.mailboxCreate(path);
  }

  async renameFolder(from: string, to: string): Promise<void> {
    await this.#c.mailboxRename(from, to);
  }

  async deleteFolder(path: string): Promise<void> {
    await this.#c.mailboxDelete(path);
  }

  async subscribe(path: string): Promise<void> {
    await this.#c.mailboxSubscribe(path);
  }

  async unsubscribe(path: string): Promise<void> {
    await this.#c.mailboxUnsubscribe(path);
  }

  async noop(): Promise<void> {
    await this.#c.noop();
  }

  async idle(): Promise<void> {
    await this.#c.idle();
  }

  async logout(): Promise<void> {
    await this.#c.logout();
  }

  close(): void {
    this.#c.close();
  }
}
