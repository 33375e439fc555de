/**
 * The local submission server (127.0.0.1 only) on smtp-server. It authenticates with local
 * credentials, checks the envelope and the message, and hands the message to the SubmissionPort;
 * the 250 reply is sent only once the port says every copy is durably in the outbox.
 *
 * EHLO advertises PIPELINING, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, SIZE, (when TLS material is
 * given and TLS is not implicit) STARTTLS, and AUTH PLAIN LOGIN once the connection is encrypted (or
 * on a cleartext connection when plaintext AUTH is allowed or no TLS material exists). smtp-server's AUTH LOGIN sends
 * exactly `334 VXNlcm5hbWU6` and `334 UGFzc3dvcmQ6` (what Thunderbird checks).
 */
import { SMTPServer } from 'smtp-server';
import type {
  SMTPServerAddress,
  SMTPServerDataStream,
  SMTPServerSession,
  SMTPServerOptions,
} from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import type { Logger } from '../shared/logger.ts';
import type { AccountId, SubmissionPort } from './submission-port.ts';
import { AuthThrottle } from './auth-throttle.ts';
import { checkMessageSteps, type CheckedMessage } from './message-check.ts';
import { recipientProblem } from './address-check.ts';
import { RecipientRejectedError, SenderNotAllowedError } from './errors.ts';
import { REPLIES, toServerError } from './replies.ts';

export const DEFAULT_MAX_MESSAGE_SIZE = 25 * 1024 * 1024;
export const DEFAULT_MAX_RECIPIENTS = 500;

export interface SmtpTlsCredentials {
  /** PEM server certificate (leaf; the local CA signs it). */
  cert: string;
  /** PEM private key. */
  key: string;
}

export interface SmtpServerOptions {
  submission: SubmissionPort;
  logger: Logger;
  /** TCP port on 127.0.0.1; 0 = a free one. Default 1025. */
  port?: number;
  /** TLS material; without it neither STARTTLS nor implicit TLS is offered. */
  tls?: SmtpTlsCredentials | null;
  /** true = implicit TLS (465-style) instead of STARTTLS. Needs `tls`. */
  implicitTls?: boolean;
  /** Allow AUTH on a cleartext loopback connection (settings.allowPlaintextLoopback). */
  allowPlaintextAuth?: boolean;
  /** SIZE limit in bytes (advertised and enforced). */
  maxMessageSize?: number;
  /** Recipients per transaction; more get 452. */
  maxRecipients?: number;
  /** Name in the greeting. */
  hostname?: string;
  throttle?: AuthThrottle;
  /** Idle timeout per connection. */
  socketTimeoutMs?: number;
  /** Grace period for open connections at close(). */
  closeTimeoutMs?: number;
}

export interface RunningSmtpServer {
  /** The port actually listened on. */
  port: number;
  /** Replaces the certificate (after renewal) for new connections. */
  setTlsCredentials(tls: SmtpTlsCredentials): void;
  /** Stops accepting, lets open transactions finish (up to closeTimeoutMs), then closes. */
  close(): Promise<void>;
}

interface SessionUser {
  account: AccountId;
  username: string;
}

function sessionUser(session: SMTPServerSession): SessionUser | null {
  return (session.user as SessionUser | undefined) ?? null;
}

export async function startSmtpServer(opts: SmtpServerOptions): Promise<RunningSmtpServer> {
  const log = opts.logger.child({ module: 'smtp' });
  const submission = opts.submission;
  const throttle = opts.throttle ?? new AuthThrottle();
  const maxSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  const tls = opts.tls ?? null;
  const implicit = Boolean(opts.implicitTls && tls);
  if (opts.implicitTls && !tls) throw new Error('implicit TLS needs a certificate and key');

  const serverOptions: SMTPServerOptions = {
    name: opts.hostname ?? 'localhost',
    banner: 'Lockbridge',
    secure: implicit,
    ...(tls ? { key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' as const } : {}),
    disabledCommands: tls ? [] : ['STARTTLS'],
    allowInsecureAuth: Boolean(opts.allowPlaintextAuth) || !tls,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: false,
    size: maxSize,
    rejectOversized: true,
    maxRecipients: opts.maxRecipients ?? DEFAULT_MAX_RECIPIENTS,
    hideENHANCEDSTATUSCODES: false,
    hidePIPELINING: false,
    hide8BITMIME: false,
    hideSMTPUTF8: false,
    hideDSN: true,
    disableReverseLookup: true,
    logger: false,
    socketTimeout: opts.socketTimeoutMs ?? 5 * 60_000,
    closeTimeout: opts.closeTimeoutMs ?? 5_000,
    maxAllowedUnauthenticatedCommands: 20,

    // AUTH only once the connection is encrypted (a client sending an initial response would have
    // sent the password in clear), unless plaintext AUTH on loopback was allowed — as Postfix's
    // smtpd_tls_auth_only. The session's list replaces disabledCommands for that connection.
    onConnect(session, callback) {
      if (tls && !implicit && !opts.allowPlaintextAuth) session.disabledCommands = ['AUTH'];
      callback();
    },
    onSecure(_socket, session, callback) {
      session.disabledCommands = [];
      callback();
    },

    onAuth(auth, session, callback) {
      const username = (auth.username ?? '').trim();
      const password = auth.password ?? '';
      if (auth.method !== 'PLAIN' && auth.method !== 'LOGIN') {
        callback(REPLIES.authMechanism());
        return;
      }
      const keys = [`user:${username.toLowerCase()}`, `addr:${session.remoteAddress}`];
      const delay = throttle.delayFor(keys);
      const attempt = async (): Promise<void> => {
        let account: AccountId | null;
        try {
          account = username && password ? await submission.authenticate(username, password) : null;
        } catch (err) {
          log.error({ err }, 'local authentication failed with an error');
          callback(REPLIES.authTemporary());
          return;
        }
        if (!account) {
          throttle.failed(keys);
          log.warn({ remote: session.remoteAddress }, 'failed local SMTP login');
          callback(REPLIES.authFailed());
          return;
        }
        throttle.succeeded(keys);
        const user: SessionUser = { account, username };
        callback(null, { user });
      };
      const t = setTimeout(() => void attempt(), delay);
      t.unref?.();
    },

    onMailFrom(address: SMTPServerAddress, session, callback) {
      const user = sessionUser(session);
      if (!user) return callback(REPLIES.authRequired());
      if (!address.address) return callback(REPLIES.senderRequired());
      submission
        .checkSender(user.account, address.address, [])
        .then((res) => {
          if (res.ok) callback();
          else callback(toServerError(new SenderNotAllowedError(`<${address.address}>: ${res.reason}`)));
        })
        .catch((err: unknown) => callback(toServerError(err)));
    },

    onRcptTo(address: SMTPServerAddress, session, callback) {
      const user = sessionUser(session);
      if (!user) return callback(REPLIES.authRequired());
      const problem = recipientProblem(address.address, Boolean(session.envelope.smtpUtf8));
      if (problem) return callback(toServerError(new RecipientRejectedError(address.address, problem)));
      if (!submission.checkRecipient) return callback();
      submission
        .checkRecipient(user.account, address.address)
        .then((res) => {
          if (res.ok) callback();
          else callback(toServerError(new RecipientRejectedError(address.address, res.reason)));
        })
        .catch((err: unknown) => callback(toServerError(err)));
    },

    onData(stream: SMTPServerDataStream, session, callback) {
      const user = sessionUser(session);
      const chunks: Buffer[] = [];
      let bytes = 0;
      stream.on('data', (chunk: Buffer) => {
        if (stream.sizeExceeded) return; // keep draining, drop the bytes
        bytes += chunk.length;
        chunks.push(chunk);
      });
      stream.on('end', () => {
        if (stream.sizeExceeded || bytes > maxSize) {
          // rejectOversized makes smtp-server answer 552 whatever we report
          callback(REPLIES.tooLarge(maxSize));
          return;
        }
        if (!user) {
          callback(REPLIES.authRequired());
          return;
        }
        const envelope = {
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
        };
        const smtpUtf8 = Boolean(session.envelope.smtpUtf8);
        const started = Date.now();
        void (async () => {
          try {
            const checked = await checkInTurns(Buffer.concat(chunks, bytes), smtpUtf8);
            const sender = await submission.checkSender(user.account, envelope.mailFrom, checked.headerFrom);
            if (!sender.ok) throw new SenderNotAllowedError(`From header: ${sender.reason}`);
            const res = await submission.submit({
              account: user.account,
              envelope,
              raw: checked.raw,
              smtpUtf8,
            });
            log.info(
              { queuedId: res.queuedId, recipients: envelope.rcptTo.length, bytes, ms: Date.now() - started },
              'message queued',
            );
            callback(null, `queued as ${res.queuedId}`);
          } catch (err) {
            const e = toServerError(err);
            log.info({ code: e.responseCode, reason: e.message }, 'message refused');
            callback(e);
          }
        })();
      });
    },
  };

  const server = new SMTPServer(serverOptions);
  server.on('error', (err: Error) => log.warn({ err }, 'smtp connection error'));

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.server.once('error', onError);
    server.listen(opts.port ?? 1025, '127.0.0.1', () => {
      server.server.off('error', onError);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  log.info({ port, tls: tls ? (implicit ? 'implicit' : 'starttls') : 'none' }, 'smtp server listening');

  return {
    port,
    setTlsCredentials(next: SmtpTlsCredentials) {
      server.updateSecureContext({ key: next.key, cert: next.cert });
    },
    close() {
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** checkMessage with the event loop given a turn after every ~10 ms of it (see checkMessageSteps). */
async function checkInTurns(raw: Buffer, smtpUtf8: boolean): Promise<CheckedMessage> {
  const steps = checkMessageSteps(raw, { smtpUtf8 });
  let since = performance.now();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (performance.now() - since > 10) {
      await yieldLoop();
      since = performance.now();
    }
  }
}
