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
  // Well-shaped, so each costs a database lookup; a new one each time, since a key refused once
  // is refused again from memory, uncharged.
  let guesses = 0;
  const wrong = (valid: string) =>
    `${valid.slice(0, -6)}${(guesses++).toString(36).padStart(6, 'A')}`;
  const wrongKey = () => ({ 'X-Api-Key': wrong(key.key) });
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
    for (let i = 0; i < BUDGET; i++) {
      await t
        .http()
        .get(`/internal/v1/instances/${instance}`)
        .set(from(ip, { Authorization: wrong(proxy.Authorization) }))
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
      // New keys each time: unknown, so each is counted up front, then refunded.
      const fresh = await a.apiKey();
      await t.http().get('/v1/customers').set(from(ip, fresh.headers)).expect(200);
      const freshProxy = (await a.proxyKey(instance)).headers;
      await t
        .http()
        .get(`/internal/v1/instances/${elsewhere}`)
        .set(from(ip, freshProxy))
        .expect(403);
    }
    await t.http().get('/v1/customers').set(from(ip, wrongKey())).expect(401);
  });

  it('refuses a key refused before at once, uncharged: retrying it costs its network nothing', async () => {
    const ip = '203.0.113.36';
    const retried = wrongKey();
    for (let i = 0; i < BUDGET + 3; i++) {
      await t.http().get('/v1/customers').set(from(ip, retried)).expect(401);
    }
    await spendAfter(ip, 1);
  });

  it('answers a remembered refusal exactly as the lookup did, for API and proxy keys', async () => {
    const answer = (res: { status: number; body: unknown; headers: Record<string, string> }) => ({
      status: res.status,
      body: res.body,
      challenge: res.headers['www-authenticate'],
    });
    const apiKey = wrongKey();
    const proxyKey = { Authorization: wrong(proxy.Authorization) };
    for (const [path, headers, detail] of [
      ['/v1/customers', apiKey, 'Invalid API key'],
      [`/internal/v1/instances/${instance}`, proxyKey, 'Invalid proxy key'],
    ] as const) {
      const looked = answer(await t.http().get(path).set(from('203.0.113.39', headers)));
      expect(looked).toEqual({ status: 401, body: { detail }, challenge: 'Bearer' });
      const remembered = answer(await t.http().get(path).set(from('203.0.113.39', headers)));
      expect(remembered).toEqual(looked);
    }
  });

  it('charges a known key once when it has been revoked since', async () => {
    const ip = '203.0.113.37';
    const revoked = await a.apiKey();
    await t.http().get('/v1/customers').set(from(ip, revoked.headers)).expect(200);
    await t.http().delete(`/v1/api-keys/${revoked.id}`).set(a.admin).expect(204);
    for (let i = 0; i < BUDGET + 1; i++) {
      await t.http().get('/v1/customers').set(from(ip, revoked.headers)).expect(401);
    }
    await spendAfter(ip, 1);
  });

  it('counts no key of the wrong shape: refusing it costs no lookup', async () => {
    const ip = '203.0.113.38';
    for (let i = 0; i < BUDGET + 2; i++) {
      await t
        .http()
        .get('/v1/customers')
        .set(from(ip, { 'X-Api-Key': 'undefined' }))
        .expect(401);
      await t
        .http()
        .get(`/internal/v1/instances/${instance}`)
        .set(from(ip, { Authorization: `Bearer ${key.key}` })) // an API key where a proxy key goes
        .expect(401);
    }
    await spendAfter(ip, 0);
  });

  /** With `spent` attempts charged to `ip`, the rest of its budget passes, then 429. */
  async function spendAfter(ip: string, spent: number) {
    for (let i = spent; i < BUDGET; i++) {
      await t.http().get('/v1/customers').set(from(ip, wrongKey())).expect(401);
    }
    expectRefused(await t.http().get('/v1/customers').set(from(ip, wrongKey())));
  }

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
