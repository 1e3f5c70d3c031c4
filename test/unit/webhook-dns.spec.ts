import { pbkdf2 } from 'node:crypto';
import { type Socket, createSocket } from 'node:dgram';
import { once } from 'node:events';
import { refuseDestination } from '../../src/webhooks/destination';
import { dnsResolver, resolverFor, systemLookup } from '../../src/webhooks/dns-resolver';

/**
 * A DNS server on a local UDP port: `hooks.example.test` has one A record and no AAAA,
 * `nx.example.test` does not exist, and `silent.example.test` is never answered.
 */
async function fakeDns(): Promise<{ server: Socket; servers: string[]; asked: string[] }> {
  const server = createSocket('udp4');
  const asked: string[] = [];
  server.on('message', (query, peer) => {
    const labels: string[] = [];
    let at = 12;
    while (query[at] !== 0) {
      labels.push(query.subarray(at + 1, at + 1 + query[at]).toString());
      at += query[at] + 1;
    }
    const name = labels.join('.');
    const type = query.readUInt16BE(at + 1);
    asked.push(`${name} ${type}`);
    if (name === 'silent.example.test') return;
    const question = query.subarray(12, at + 5);
    const rcode = name === 'hooks.example.test' ? 0 : 3; // 3: no such name
    const answer =
      rcode === 0 && type === 1
        ? Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 93, 184, 215, 14])
        : Buffer.alloc(0);
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2);
    header.writeUInt16BE(0x8180 | rcode, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answer.length > 0 ? 1 : 0, 6);
    server.send(Buffer.concat([header, question, answer]), peer.port, peer.address);
  });
  server.bind(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, servers: [`127.0.0.1:${server.address().port}`], asked };
}

const PUBLIC_ONLY = { allowHttp: true, allowPrivateNetworks: false };

describe('the DNS resolver of webhook hosts', () => {
  let dns: Awaited<ReturnType<typeof fakeDns>>;
  beforeAll(async () => {
    dns = await fakeDns();
  });
  afterAll(() => dns.server.close());

  it('asks for A and AAAA records and keeps every address found', async () => {
    const resolve = dnsResolver({ servers: dns.servers });
    expect(await resolve('hooks.example.test')).toEqual(['93.184.215.14']);
    expect(await refuseDestination('https://hooks.example.test/', PUBLIC_ONLY, { resolve })).toBe(
      null,
    );
    expect(dns.asked).toEqual(
      expect.arrayContaining(['hooks.example.test 1', 'hooks.example.test 28']),
    );
  });

  it('tells a name that does not exist from one whose servers do not answer', async () => {
    // No deadline of ours within reach: the refusal comes from c-ares giving up by itself.
    const resolve = dnsResolver({ servers: dns.servers, tryMs: 100, deadlineMs: 60_000 });
    const slow = { resolve, timeoutMs: 60_000 };
    expect(await refuseDestination('https://nx.example.test/', PUBLIC_ONLY, slow)).toBe(
      'The host nx.example.test does not resolve to any address',
    );
    expect(await refuseDestination('https://silent.example.test/', PUBLIC_ONLY, slow)).toBe(
      'The host silent.example.test could not be resolved (ETIMEOUT)',
    );
  });

  it('cancels a lookup at its deadline, before c-ares would give up', async () => {
    // c-ares alone: two tries of at least 5 s on the one server.
    const resolve = dnsResolver({ servers: dns.servers, tryMs: 5_000, deadlineMs: 200 });
    const started = Date.now();
    const refusal = await refuseDestination('https://silent.example.test/', PUBLIC_ONLY, {
      resolve,
      timeoutMs: 60_000,
    });
    expect(refusal).toBe('The host silent.example.test could not be resolved (ETIMEOUT)');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('uses getaddrinfo only where private networks are allowed', () => {
    expect(resolverFor({ allowPrivateNetworks: true })).toBe(systemLookup);
    expect(resolverFor({ allowPrivateNetworks: false })).not.toBe(systemLookup);
  });

  it('answers localhost as the loopback addresses without asking, as /etc/hosts does', async () => {
    const resolve = dnsResolver({ servers: dns.servers });
    const before = dns.asked.length;
    expect(await resolve('LocalHost.')).toEqual(['127.0.0.1', '::1']);
    expect(await resolve('api.localhost')).toEqual(['127.0.0.1', '::1']);
    expect(dns.asked.length).toBe(before);
  });

  it("leaves libuv's thread pool free while DNS servers keep a tenant's hosts waiting", async () => {
    // Twice the pool's four threads of lookups that no server answers: through getaddrinfo each
    // would hold a thread, and the hash below would wait for them to time out.
    const resolve = dnsResolver({ servers: dns.servers, tryMs: 500 });
    const order: string[] = [];
    const lookups = Array.from({ length: 8 }, () =>
      resolve('silent.example.test').catch((e: NodeJS.ErrnoException) => {
        order.push(`lookup ${e.code}`);
      }),
    );
    await new Promise<void>((done, fail) =>
      pbkdf2('secret', 'salt', 1, 32, 'sha256', (error) => {
        order.push('hash');
        return error ? fail(error) : done();
      }),
    );
    await Promise.all(lookups);
    expect(order).toEqual(['hash', ...Array<string>(8).fill('lookup ETIMEOUT')]);
  });
});
