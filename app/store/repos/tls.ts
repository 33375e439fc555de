/** Local TLS material: the local CA ('ca') and the server certificate it signs ('server'). */
import type { StoreDb } from '../sql.ts';

export type TlsName = 'ca' | 'server';

export interface TlsRecord {
  certPem: string;
  keyPem: string;
  /** ms since the epoch */
  notAfter: number;
  updatedAt: number;
}

export class TlsRepo {
  readonly #s: StoreDb;
  constructor(s: StoreDb) {
    this.#s = s;
  }

  get(name: TlsName): TlsRecord | null {
    const r = this.#s
      .prepare<{ cert_pem: string; key_pem: string; not_after: number; updated_at: number }>(
        'SELECT cert_pem, key_pem, not_after, updated_at FROM tls WHERE name = ?',
      )
      .get(name);
    return r
      ? { certPem: r.cert_pem, keyPem: r.key_pem, notAfter: r.not_after, updatedAt: r.updated_at }
      : null;
  }

  put(name: TlsName, rec: Omit<TlsRecord, 'updatedAt'>): void {
    this.#s.write(() =>
      this.#s
        .prepare(
          `INSERT INTO tls (name, cert_pem, key_pem, not_after, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(name) DO UPDATE SET cert_pem = excluded.cert_pem, key_pem = excluded.key_pem,
             not_after = excluded.not_after, updated_at = excluded.updated_at`,
        )
        .run(name, rec.certPem, rec.keyPem, Math.trunc(rec.notAfter), Date.now()),
    );
  }
}
