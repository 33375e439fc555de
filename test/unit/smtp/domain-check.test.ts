import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkDomain, type DomainResolver } from '../../../app/smtp/domain-check.ts';

const err = (code: string) => Object.assign(new Error(code), { code });

function resolver(
  zone: Record<string, { mx?: string[] | string; a?: string[] | string; aaaa?: string[] | string }>,
): DomainResolver {
  const get = async (d: string, k: 'mx' | 'a' | 'aaaa') => {
    const z = zone[d];
    if (!z) throw err('ENOTFOUND');
    const v = z[k];
    if (typeof v === 'string') throw err(v);
    if (!v || !v.length) throw err('ENODATA');
    return v;
  };
  return {
    resolveMx: async (d) => (await get(d, 'mx')).map((exchange) => ({ exchange, priority: 10 })),
    resolve4: (d) => get(d, 'a'),
    resolve6: (d) => get(d, 'aaaa'),
  };
}

describe('recipient domain check', () => {
  const r = resolver({
    'mx.example': { mx: ['mail.mx.example'] },
    'a-only.example': { a: ['192.0.2.1'] },
    'v6-only.example': { aaaa: ['2001:db8::1'] },
    'nullmx.example': { mx: [''], a: ['192.0.2.1'] },
    'empty.example': {},
    'broken.example': { mx: 'ESERVFAIL' },
  });
  it('MX, A, AAAA → exists; NXDOMAIN, null MX, no records → missing; resolver trouble → unknown', async () => {
    assert.equal(await checkDomain('mx.example', { resolver: r }), 'exists');
    assert.equal(await checkDomain('a-only.example', { resolver: r }), 'exists');
    assert.equal(await checkDomain('v6-only.example', { resolver: r }), 'exists');
    assert.equal(await checkDomain('nope.example', { resolver: r }), 'missing');
    assert.equal(await checkDomain('nullmx.example', { resolver: r }), 'missing');
    assert.equal(await checkDomain('empty.example', { resolver: r }), 'missing');
    assert.equal(await checkDomain('broken.example', { resolver: r }), 'unknown');
  });
  it('a hanging resolver gives unknown after the timeout', async () => {
    const hang: DomainResolver = {
      resolveMx: () => new Promise(() => {}),
      resolve4: () => new Promise(() => {}),
      resolve6: () => new Promise(() => {}),
    };
    // resolving at all (the resolver never answers) is what proves the timeout
    assert.equal(await checkDomain('slow.example', { resolver: hang, timeoutMs: 100 }), 'unknown');
  });
});
