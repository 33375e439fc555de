/** A SubmissionPort for protocol tests: fixed accounts, records what is submitted. */
import type { CheckResult, SubmissionPort, SubmissionRequest } from '../../../app/smtp/submission-port.ts';

export class FakeSubmissionPort implements SubmissionPort {
  readonly accounts = new Map<string, { password: string; addresses: string[] }>([
    [
      'alice@example.org',
      { password: 'local-secret', addresses: ['alice@example.org', 'alice.alias@example.org'] },
    ],
  ]);
  readonly submitted: SubmissionRequest[] = [];
  /** Set to make submit() throw. */
  failWith: Error | null = null;
  submitDelayMs = 0;
  authCalls = 0;

  async authenticate(username: string, password: string): Promise<string | null> {
    this.authCalls++;
    const a = this.accounts.get(username.toLowerCase());
    return a && a.password === password ? username.toLowerCase() : null;
  }

  async checkSender(account: string, mailFrom: string, headerFrom: string[]): Promise<CheckResult> {
    const addrs = this.accounts.get(account)?.addresses ?? [];
    for (const a of [mailFrom, ...headerFrom]) {
      if (!addrs.includes(a.toLowerCase()))
        return { ok: false, reason: `${a} is not an address of account ${account}` };
    }
    return { ok: true };
  }

  async checkRecipient(_account: string, rcpt: string): Promise<CheckResult> {
    if (rcpt.endsWith('@nxdomain.example'))
      return { ok: false, reason: 'domain nxdomain.example does not exist' };
    return { ok: true };
  }

  async submit(req: SubmissionRequest): Promise<{ queuedId: string }> {
    if (this.submitDelayMs) await new Promise((r) => setTimeout(r, this.submitDelayMs));
    if (this.failWith) throw this.failWith;
    this.submitted.push(req);
    return { queuedId: `q${this.submitted.length}` };
  }
}
