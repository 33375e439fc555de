// The few parts of `oidc-provider` (v9, shipped without types) the test authorization server uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  export interface SavedToken {
    jti: string;
    kind: string;
    accountId?: string;
    grantId?: string;
    clientId?: string;
    /** Expiry (seconds since the epoch) when set on the model; else saved as now + `expiration`. */
    exp?: number;
    /** Lifetime in seconds (the configured ttl). */
    readonly expiration: number;
  }
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: string, listener: (...args: never[]) => void): this;
    proxy: boolean;
    AccessToken: { find(value: string): Promise<{ destroy(): Promise<void> } | undefined> };
  }
}
