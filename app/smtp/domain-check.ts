/**
 * Does a recipient domain exist? (DNS: MX, else A/AAAA, RFC 5321 §5.1.) Used at RCPT TO so a typo
 * in a domain gets a clear 550 at once instead of a bounce later. Only a definite "no such domain"
 * (NXDOMAIN / no mail-capable records) refuses; timeouts and resolver failures accept (the relay
 * reports later), so an offline bridge still queues mail.
 */
import { promises as dns } from 'node:dns';

export type DomainVerdict = 'exists' | 'missing' | 'unknown';

/** The resolver calls used (node:dns/promises `Resolver` satisfies it; tests inject fakes). */
export interface DomainResolver {
  resolveMx(domain: string): Promise<{ exchange: string; priority: number }[]>;
  resolve4(domain: string): Promise<string[]>;
  resolve6(domain: string): Promise<string[]>;
}

const MISSING = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

function code(err: unknown): string {
  return String((err as NodeJS.ErrnoException)?.code ?? '');
}

export async function checkDomain(
  domain: string,
  opts: { resolver?: DomainResolver; timeoutMs?: number } = {},
): Promise<DomainVerdict> {
  const resolver: DomainResolver =
    opts.resolver ?? new dns.Resolver({ timeout: opts.timeoutMs ?? 3000, tries: 1 });
  const timeout = new Promise<DomainVerdict>((r) =>
    setTimeout(() => r('unknown'), opts.timeoutMs ?? 3000).unref(),
  );
  const lookup = (async (): Promise<DomainVerdict> => {
    try {
      const mx = await resolver.resolveMx(domain);
      // RFC 7505 null MX ("0 .") means the domain accepts no mail
      if (mx.length === 1 && (mx[0]!.exchange === '' || mx[0]!.exchange === '.')) return 'missing';
      if (mx.length) return 'exists';
    } catch (err) {
      if (!MISSING.has(code(err))) return 'unknown';
      if (code(err) === 'ENOTFOUND' || code(err) === 'NXDOMAIN') return 'missing';
    }
    for (const f of [resolver.resolve4.bind(resolver), resolver.resolve6.bind(resolver)]) {
      try {
        if ((await f(domain)).length) return 'exists';
      } catch (err) {
        if (!MISSING.has(code(err))) return 'unknown';
      }
    }
    return 'missing';
  })();
  return Promise.race([lookup, timeout]);
}
