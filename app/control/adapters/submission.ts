/**
 * The SubmissionPort: the local login over the store's credentials, and everything after it
 * through the one outgoing pipeline (app/outgoing/pipeline.ts). `createOutgoingMail` is the one
 * assembly of outgoing mail — the pipeline, the outbox relay (app/sync/outbox) and the Sent
 * recorder — that the runtime and the tests use.
 */
import type { Store } from '../../store/store.ts';
import type {
  AccountId,
  CheckResult,
  SubmissionPort,
  SubmissionRequest,
} from '../../smtp/submission-port.ts';
import { localLogin } from './local-auth.ts';
import { checkDomain } from '../../smtp/domain-check.ts';
import { OutgoingPipeline, type OutgoingPipelineDeps } from '../../outgoing/pipeline.ts';
import { SentRecorder } from '../../outgoing/sent-recorder.ts';
import { OutboxWorker, type OutboxEvent, type OutboxWorkerOptions } from '../../sync/outbox/worker.ts';
import type { AccessTokens } from '../../sync/remote/access-tokens.ts';

type SubmissionAdapterDeps = OutgoingPipelineDeps;

/** Built only by createOutgoingMail (below): the product and the tests run the same assembly. */
class SubmissionAdapter implements SubmissionPort {
  readonly #store: Store;
  readonly #outgoing: OutgoingPipeline;

  constructor(deps: SubmissionAdapterDeps) {
    this.#store = deps.store;
    this.#outgoing = new OutgoingPipeline(deps);
  }

  async authenticate(username: string, password: string): Promise<AccountId | null> {
    const account = localLogin(this.#store, username, password);
    return account ? String(account.id) : null;
  }

  checkSender(account: AccountId, mailFrom: string, headerFrom: string[]): Promise<CheckResult> {
    return this.#outgoing.checkSender(account, mailFrom, headerFrom);
  }

  checkRecipient(account: AccountId, rcptTo: string): Promise<CheckResult> {
    return this.#outgoing.checkRecipient(account, rcptTo);
  }

  submit(req: SubmissionRequest): Promise<{ queuedId: string }> {
    return this.#outgoing.submit(req);
  }

  /** Sends a refused message kept in the outbox again (see OutgoingPipeline.resend). */
  resend(id: number, o: { withoutEncryption: boolean }): Promise<{ queuedId: string }> {
    return this.#outgoing.resend(id, o);
  }
}

/** Everything the runtime needs for outgoing mail, wired together. */
export interface OutgoingMail {
  /** The SubmissionPort for startSmtpServer({ submission }). */
  adapter: SubmissionAdapter;
  worker: OutboxWorker;
  sentRecorder: SentRecorder;
  /** Starts the relay (no-op when offline: mail waits in the outbox). */
  start(): void;
  /** Stops the relay (bounded) and files pending Sent copies. */
  stop(): Promise<void>;
}

export interface OutgoingMailOptions extends Omit<SubmissionAdapterDeps, 'sentRecorder' | 'onQueued'> {
  offline?: boolean;
  onEvent?: (e: OutboxEvent) => void;
  /** Recipient domains are checked in DNS unless false (default true when online). */
  checkDomains?: boolean;
  /** The relay's retry backoff and idle poll (tests and benchmarks; defaults in worker.ts). */
  relay?: Pick<OutboxWorkerOptions, 'backoff' | 'pollMs'>;
  /** How long the Sent recorder waits for the client's own copy (default 20 s). */
  sentGraceMs?: number;
  /** Access tokens of OAuth accounts. */
  tokens?: AccessTokens;
}

export function createOutgoingMail(o: OutgoingMailOptions): OutgoingMail {
  const worker = new OutboxWorker({
    store: o.store,
    logger: o.logger,
    ...o.relay,
    ...(o.onEvent ? { onEvent: o.onEvent } : {}),
    ...(o.tokens ? { tokens: o.tokens } : {}),
  });
  const sentRecorder = new SentRecorder({
    store: o.store,
    logger: o.logger,
    ...(o.sentGraceMs === undefined ? {} : { graceMs: o.sentGraceMs }),
  });
  const checkDomains = o.checkDomains ?? !o.offline;
  const adapter = new SubmissionAdapter({
    ...o,
    sentRecorder,
    ...(o.domainCheck ? {} : checkDomains ? { domainCheck: (d: string) => checkDomain(d) } : {}),
    onQueued: () => worker.kick(),
  });
  return {
    adapter,
    worker,
    sentRecorder,
    start() {
      if (!o.offline) worker.start();
    },
    async stop() {
      await worker.stop();
      await sentRecorder.flush();
    },
  };
}
