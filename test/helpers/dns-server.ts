/**
 * A tiny authoritative DNS server on loopback UDP that answers SRV queries from a table, A queries
 * from a second one (and NXDOMAIN for everything else): enough for RFC 6186 provider discovery
 * and host-name guessing tests.
 */
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

export interface SrvAnswer {
  target: string;
  port: number;
  priority?: number;
  weight?: number;
}

export interface DnsServer {
  /** `127.0.0.1:PORT`, for Resolver.setServers / LOCKBRIDGE_DNS_SERVERS. */
  address: string;
  queries: string[];
  close(): Promise<void>;
}

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([
    ...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'ascii')])),
    Buffer.from([0]),
  ]);
}

function readQuestion(msg: Buffer): { name: string; type: number; end: number } | null {
  let off = 12;
  const labels: string[] = [];
  while (off < msg.length) {
    const len = msg[off]!;
    off++;
    if (len === 0) break;
    if (len > 63 || off + len > msg.length) return null;
    labels.push(msg.subarray(off, off + len).toString('ascii'));
    off += len;
  }
  if (off + 4 > msg.length) return null;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(off), end: off + 4 };
}

export async function startDnsServer(
  srv: Record<string, SrvAnswer[]>,
  /** host name → IPv4 addresses */
  a: Record<string, string[]> = {},
): Promise<DnsServer> {
  const sock = createSocket('udp4');
  const queries: string[] = [];
  const key = (k: string) => k.toLowerCase().replace(/\.$/, '');
  const table = new Map(Object.entries(srv).map(([k, v]) => [key(k), v]));
  const hosts = new Map(Object.entries(a).map(([k, v]) => [key(k), v]));
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    const q = readQuestion(msg);
    if (!q) return;
    queries.push(q.name);
    const answers = q.type === 33 ? (table.get(q.name) ?? []) : [];
    const addresses = q.type === 1 ? (hosts.get(q.name) ?? []) : [];
    const known = table.has(q.name) || hosts.has(q.name);
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    header.writeUInt16BE(known ? 0x8580 : 0x8583, 2); // response, AA, RD, RA; NXDOMAIN when unknown
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length + addresses.length, 6);
    const aRrs = addresses.map((ip) => {
      const rr = Buffer.alloc(2 + 2 + 2 + 4 + 2 + 4);
      rr.writeUInt16BE(0xc00c, 0);
      rr.writeUInt16BE(1, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(60, 6);
      rr.writeUInt16BE(4, 10);
      ip.split('.').forEach((o, i) => rr.writeUInt8(Number(o), 12 + i));
      return rr;
    });
    const rrs = answers.map((a) => {
      const target = encodeName(a.target);
      const rr = Buffer.alloc(2 + 2 + 2 + 4 + 2 + 6);
      rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question
      rr.writeUInt16BE(33, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(60, 6);
      rr.writeUInt16BE(6 + target.length, 10);
      rr.writeUInt16BE(a.priority ?? 0, 12);
      rr.writeUInt16BE(a.weight ?? 0, 14);
      rr.writeUInt16BE(a.port, 16);
      return Buffer.concat([rr, target]);
    });
    sock.send(Buffer.concat([header, msg.subarray(12, q.end), ...rrs, ...aRrs]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const { port } = sock.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    queries,
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}

/**
 * A resolver where `domain` exists (at 127.0.0.1), made this process's LOCKBRIDGE_DNS_SERVERS (the
 * recipient-domain check of an in-process bridge asks it); close() puts the old value back.
 */
export async function useDomainResolver(domain: string): Promise<DnsServer> {
  const dns = await startDnsServer({}, { [domain]: ['127.0.0.1'] });
  const saved = process.env.LOCKBRIDGE_DNS_SERVERS;
  process.env.LOCKBRIDGE_DNS_SERVERS = dns.address;
  return {
    ...dns,
    async close() {
      if (saved === undefined) delete process.env.LOCKBRIDGE_DNS_SERVERS;
      else process.env.LOCKBRIDGE_DNS_SERVERS = saved;
      await dns.close();
    },
  };
}
