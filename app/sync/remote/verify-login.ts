/** `lockbridge account add` checks the provider login with this before saving anything. */
import type { Logger } from '../../shared/logger.ts';
import { connectProvider } from './connect.ts';
import type { ProviderEndpoint } from './endpoint.ts';

export interface VerifiedLogin {
  capabilities: string[];
  /** Folder names with their special use, as the provider lists them. */
  folders: Array<{ path: string; specialUse: string | null }>;
}

/**
 * Connects, logs in, lists folders and logs out. Throws ProviderError with kind 'auth' (wrong
 * password), 'tls' (certificate / no STARTTLS), 'unreachable' (refused, unknown host), 'timeout'.
 */
export async function verifyProviderLogin(
  ep: ProviderEndpoint,
  opts: { logger?: Logger; timeoutMs?: number } = {},
): Promise<VerifiedLogin> {
  const client = await connectProvider(ep, {
    ...(opts.logger ? { logger: opts.logger } : {}),
    connectTimeoutMs: opts.timeoutMs ?? 15000,
    socketTimeoutMs: opts.timeoutMs ?? 15000,
  });
  try {
    const list = await client.list();
    return {
      capabilities: [...client.capabilities.keys()],
      folders: list.map((m) => ({ path: m.path, specialUse: m.specialUse ?? null })),
    };
  } finally {
    await client.logout().catch(() => client.close());
  }
}
