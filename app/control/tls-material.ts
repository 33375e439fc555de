/**
 * The local TLS material kept in the store: created at init, and the server certificate renewed
 * under the same CA before it expires (clients that trusted the CA once keep working).
 */
import { createLocalTls, needsRenewal, renewServerCert } from '../crypto/local-ca.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from '../shared/logger.ts';
import { certificateValidity } from '../crypto/local-ca.ts';

export interface ServingTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export async function createTlsMaterial(store: Store): Promise<void> {
  const m = await createLocalTls();
  store.transaction(() => {
    store.tls.put('ca', {
      certPem: m.caCertPem,
      keyPem: m.caKeyPem,
      notAfter: certificateValidity(m.caCertPem).notAfter.getTime(),
    });
    store.tls.put('server', {
      certPem: m.certPem,
      keyPem: m.keyPem,
      notAfter: certificateValidity(m.certPem).notAfter.getTime(),
    });
  });
}

/** The certificate to serve, renewing the server certificate first when it is close to expiry. */
export async function servingTls(store: Store, logger: Logger, now: Date = new Date()): Promise<ServingTls> {
  let ca = store.tls.get('ca');
  if (!ca) {
    await createTlsMaterial(store);
    ca = store.tls.get('ca');
  }
  let server = store.tls.get('server');
  if (!ca) throw new Error('local CA missing from the store');
  if (!server || needsRenewal(server.certPem, now)) {
    const renewed = await renewServerCert(ca.certPem, ca.keyPem, { now });
    store.tls.put('server', {
      certPem: renewed.certPem,
      keyPem: renewed.keyPem,
      notAfter: certificateValidity(renewed.certPem).notAfter.getTime(),
    });
    logger.info({}, 'local server certificate renewed under the same CA');
    server = store.tls.get('server');
  }
  if (!server) throw new Error('server certificate missing from the store');
  return { caPem: ca.certPem, certPem: server.certPem, keyPem: server.keyPem };
}
