import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

const BUDGET = 3;

describe('failed key lookups per client network', () => {
  let t: TestApp;
  let a: TenantSession;
  let key: { key: string; headers: Record<string, string> };
  let instance: string;
  let proxy: Record<string, string>;

  beforeAll(async () => {
    // Supertest connects over loopback: trusted as the proxy, its X-Forwarded-For names clients.
    // No per-credential limit here, so every 429 below is the failure budget's.
    t = await startTestApp({
      AUTH_FAILURES_PER_MINUTE: String(BUDGET),
      RATE_LIMIT_PER_MINUTE: '0',
      TRUST_PROXY: '127.0.0.1,::1',
    });
    a = await TenantSession.create(t, 'A');
    key = await a.apiKey();
    instance = await a.instance();
    proxy = (await a.proxyKey(instance)).headers;
    // Both keys have authenticated once: from now on they are known good.
    await t.http().get('/v1/customers').set(key.headers).expect(200);
    await t.http().get(`/internal/v1/instances/${instance}`).set(proxy).expect(200);
  });
  afterAll(() => t.close());

  const from = (ip: string, headers: Record<string, string> = {}) => ({
    'X-Forwarded-For': ip,
    ...headers,
  });
  // The tenant part of the key still parses, so each of these costs a database lookup.
  const wrongKey = () => ({ 'X-Api-Key': `${key.key.slice(0, -4)}AAAA` });
  const spend = async (ip: string) => {
    for (let i = 0; i < BUDGET; i++) {
      await t.http().get('/v1/customers').set(from(ip, wrongKey())).expect(401);
    }
  };

  function expectRefused(res: { status: number; body: unknown; headers: object }) {
    expect(res.status).toBe(429);
    expect(res.body).toEqual({
      detail: expect.stringMatching(/^Too many failed authentications from this address/),
    });
    const retryAfter = Number((res.headers as Record<string, string>)['retry-after']);
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
  }

  it('refuses new keys from a network past its budget, changing nothing; known keys and others pass', async () => {
    const ip = '203.0.113.30';
    await spend(ip);
    const fresh = await a.apiKey(); // valid, but never seen: it could be one more guess
    const refused = await t
      .http()
      .post('/v1/customers')
      .set(from(ip, fresh.headers))
      .send({ name: 'while refused' });
    expectRefused(refused);
    const stored = await t.raw.query('SELECT count(*) FROM customers WHERE name = $1', [
      'while refused',
    ]);
    expect(stored.rows[0].count).toBe('0');
    expectRefused(await t.http().get('/v1/customers').set(from(ip, wrongKey())));

    // A key that authenticated lately, a JWT, and another network are not held up.
    await t.http().get('/v1/customers').set(from(ip, key.headers)).expect(200);
    await t.http().get(`/internal/v1/instances/${instance}`).set(from(ip, proxy)).expect(200);
    await t.http().get('/v1/customers').set(from(ip, a.admin)).expect(200);
    await t.http().get('/v1/customers').set(from('203.0.113.31', fresh.headers)).expect(200);
  });

  it('counts wrong proxy keys too, but not bad tokens or missing credentials, which cost nothing', async () => {
    const ip = '203.0.113.32';
    for (let i = 0; i < BUDGET + 2; i++) {
      await t
        .http()
        .get('/v1/customers')
        .set(from(ip, { Authorization: 'Bearer not.a.token' }))
        .expect(401);
      await t.http().get('/v1/customers').set(from(ip)).expect(401);
    }
    const wrongProxy = { Authorization: `${proxy.Authorization.slice(0, -4)}AAAA` };
    for (let i = 0; i < BUDGET; i++) {
      await t
        .http()
        .get(`/internal/v1/instances/${instance}`)
        .set(from(ip, wrongProxy))
        .expect(401);
    }
    expectRefused(await t.http().get('/v1/customers').set(from(ip, wrongKey())));
  });

  it('holds a burst to the budget: attempts are counted before their lookups finish', async () => {
    const ip = '203.0.113.33';
    const burst = await Promise.all(
      Array.from({ length: BUDGET * 4 }, () =>
        t.http().get('/v1/customers').set(from(ip, wrongKey())),
      ),
    );
    const statuses = burst.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(BUDGET).fill(401), ...Array(BUDGET * 3).fill(429)]);
  });

  it('charges an IPv6 client by its /64', async () => {
    for (const host of ['1', '2', '3']) {
      await t
        .http()
        .get('/v1/customers')
        .set(from(`2001:db8:5::${host}`, wrongKey()))
        .expect(401);
    }
    expectRefused(await t.http().get('/v1/customers').set(from('2001:db8:5::99', wrongKey())));
    await t.http().get('/v1/customers').set(from('2001:db8:6::1', wrongKey())).expect(401);
  });

  it('never counts requests that authenticate, a 403 included', async () => {
    const ip = '203.0.113.34';
    const elsewhere = await a.instance();
    for (let i = 0; i < BUDGET + 2; i++) {
      const fresh = await a.apiKey(); // unknown each time, so each is counted, then refunded
      await t.http().get('/v1/customers').set(from(ip, fresh.headers)).expect(200);
      await t.http().get(`/internal/v1/instances/${elsewhere}`).set(from(ip, proxy)).expect(403);
    }
    await t.http().get('/v1/customers').set(from(ip, wrongKey())).expect(401);
  });

  it('counts nothing when AUTH_FAILURES_PER_MINUTE is 0', async () => {
    const off = await startTestApp({ TRUST_PROXY: '127.0.0.1,::1' }); // the test helper's 0
    try {
      for (let i = 0; i < BUDGET + 3; i++) {
        await off.http().get('/v1/customers').set(from('203.0.113.35', wrongKey())).expect(401);
      }
    } finally {
      await off.close();
    }
  });
});
