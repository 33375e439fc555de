/**
 * The envelope of one queued copy of a submission, as the pipeline (./pipeline.ts) writes it into
 * the store's outbox and the relay (app/sync/outbox/worker.ts) reads it back.
 */
import type { OutboxEnvelope } from '../store/repos/outbox.ts';
import type { Protection } from './plan.ts';

export interface OutboxCopyEnvelope extends OutboxEnvelope {
  /** groups the copies of one submission */
  submission: string;
  copy: number;
  copies: number;
  kind: 'visible' | 'bcc';
  protection: Protection;
  messageId: string;
  /** raw Subject of the client's message (for notices; the copy itself may say `...`) */
  subject: string;
}
