import { signDevToken } from '../../src/auth/tokens';
import { TEST_JWT_SECRET, TestApp, startTestApp } from '../helpers/app';
import { TenantSession, token } from '../helpers/factories';

const LIMIT = 3;
const DASHBOARD = 'https://dash.example.com';

describe('rate limit per credential', () => {
  let t: TestApp;
  let a: TenantSession;
  let b: TenantSession;

  beforeAll(async () => {
    // Supertest connects over loopback: trusted as the proxy, its X-Forwarded-For names clients.
    t = await startTestApp({ RATE_LIMIT_PER_MINUTE: String(LIMIT), TRUST_PROXY: '127.0.0.1,::1' });
    a = await TenantSession.create(t, 'A');
    b = await TenantSession.create(t, 'B');
  });
  afterAll(() => t.close());

  /** Spends a credential's whole budget, then expects the refusal in the wire format. */
  async function exhaust(path: string, headers: Record<string, string>) {
    for (let i = 0; i < LIMIT; i++) {
      const ok = await t.http().get(path).set(headers).expect(200);
      expect(ok.headers['x-ratelimit-limit']).toBe(String(LIMIT));
    }
    const refused = await t.http().get(path).set(headers).expect(429);
    expect(refused.body).toEqual({ detail: expect.stringMatching(/^Rate limit exceeded/) });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
  }

  it('refuses an API key past its budget with 429 and Retry-After; another key still passes', async () => {
    const keyA = await a.apiKey();
    const keyB = await b.apiKey();
    await exhaust('/v1/customers', keyA.headers);
    await t.http().get('/v1/customers').set(keyB.headers).expect(200);
  });

  it('counts one budget across routes, not one per route', async () => {
    const key = await a.apiKey();
    await t.http().get('/v1/customers').set(key.headers).expect(200);
    await t.http().get('/v1/instances').set(key.headers).expect(200);
    await t.http().get('/v1/api-keys').set(key.headers).expect(200);
    await t.http().get('/v1/approvals').set(key.headers).expect(429);
  });

  it('keys JWTs by tenant and subject, so a fresh token of the same user shares the budget', async () => {
    const jwt = (sub: string, expiresInSeconds: number) => ({
      Authorization: `Bearer ${signDevToken(TEST_JWT_SECRET, { sub, tenantId: a.tenantId, role: 'admin' }, { expiresInSeconds })}`,
    });
    await exhaust('/v1/customers', jwt('same-user', 600));
    await t.http().get('/v1/customers').set(jwt('same-user', 900)).expect(429);
    await t.http().get('/v1/customers').set(jwt('other-user', 600)).expect(200);
  });

  it('keys proxy keys by instance: a second key of the instance shares its budget', async () => {
    const admin = { Authorization: `Bearer ${token(a.tenantId, 'admin')}` };
    const instance = (await t.http().post('/v1/instances').set(admin).send({ name: 'i' })).body.id;
    const newKey = async () => {
      const res = await t.http().post(`/v1/instances/${instance}/proxy-keys`).set(admin).send({});
      return { Authorization: `Bearer ${res.body.key}` };
    };
    const first = await newKey();
    const second = await newKey();
    await exhaust(`/internal/v1/instances/${instance}`, first);
    await t.http().get(`/internal/v1/instances/${instance}`).set(second).expect(429);
  });

  it('limits routes without a credential by client IP', async () => {
    const from = (ip: string) => ({ 'X-Forwarded-For': ip });
    await exhaust('/v1/rules/trigger-types', from('203.0.113.7'));
    await t.http().get('/v1/rules/trigger-types').set(from('203.0.113.8')).expect(200);
  });

  it('believes X-Forwarded-For only from a configured proxy', async () => {
    const direct = await startTestApp({ RATE_LIMIT_PER_MINUTE: String(LIMIT) });
    try {
      const spoofed = (n: number) => ({ 'X-Forwarded-For': `198.51.100.${n}` });
      for (let i = 0; i < LIMIT; i++) {
        await direct.http().get('/v1/rules/trigger-types').set(spoofed(i)).expect(200);
      }
      // A new claimed address is no new budget: the peer is what counts.
      await direct.http().get('/v1/rules/trigger-types').set(spoofed(99)).expect(429);
    } finally {
      await direct.close();
    }
  });

  it('limits platform-key guesses by client IP before the key is checked', async () => {
    const guess = { 'X-Forwarded-For': '203.0.113.20', 'X-Platform-Key': 'x'.repeat(32) };
    for (let i = 0; i < LIMIT; i++) {
      await t.http().post('/platform/v1/tenants').set(guess).send({ name: 'n' }).expect(401);
    }
    await t.http().post('/platform/v1/tenants').set(guess).send({ name: 'n' }).expect(429);
  });

  it('never limits health probes or the documentation', async () => {
    const ip = { 'X-Forwarded-For': '203.0.113.9' };
    for (let i = 0; i < LIMIT + 2; i++) {
      await t.http().get('/healthz').set(ip).expect(200);
      await t.http().get('/readyz').set(ip).expect(200);
      await t.http().get('/docs').set(ip).expect(200);
      await t.http().get('/openapi.json').set(ip).expect(200);
    }
  });

  it('sends no CORS headers when CORS_ORIGINS is unset', async () => {
    const res = await t.http().get('/healthz').set('Origin', DASHBOARD).expect(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await t
      .http()
      .options('/v1/customers')
      .set({ Origin: DASHBOARD, 'Access-Control-Request-Method': 'GET' });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('security headers, CORS and pagination caps', () => {
  let t: TestApp;
  let a: TenantSession;

  beforeAll(async () => {
    // The test helper's default: RATE_LIMIT_PER_MINUTE=0.
    t = await startTestApp({ CORS_ORIGINS: `${DASHBOARD},http://localhost:3000` });
    a = await TenantSession.create(t, 'A');
  });
  afterAll(() => t.close());

  it('does not limit at all when RATE_LIMIT_PER_MINUTE is 0', async () => {
    for (let i = 0; i < 25; i++) {
      const res = await t.http().get('/v1/customers').set(a.admin).expect(200);
      expect(res.headers['x-ratelimit-limit']).toBeUndefined();
    }
  });

  it('sets helmet headers on answers and errors alike', async () => {
    for (const res of [
      await t.http().get('/healthz').expect(200),
      await t.http().get('/v1/customers').expect(401),
    ]) {
      expect(res.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'strict-transport-security': expect.stringMatching(/^max-age=\d+/),
        'referrer-policy': 'no-referrer',
      });
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('keeps Swagger UI working under its content security policy', async () => {
    const page = await t
      .http()
      .get('/docs')
      .expect(200)
      .expect('content-type', /text\/html/);
    const csp = page.headers['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("'unsafe-inline'"); // the page's inline <style>
    expect(csp).not.toContain('upgrade-insecure-requests'); // would break plain-HTTP development
    // Every script is a file of ours, which script-src 'self' allows; none is inline.
    const scripts = page.text.match(/<script[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toMatch(/\ssrc=/);
    await t.http().get('/docs/swagger-ui-init.js').expect(200);
    await t.http().get('/openapi.json').expect(200).expect('content-type', /json/);
  });

  it('answers CORS for a configured origin only', async () => {
    const allowed = await t.http().get('/v1/customers').set(a.admin).set('Origin', DASHBOARD);
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe(DASHBOARD);
    expect(allowed.headers['access-control-expose-headers']).toMatch(/Retry-After/);
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();

    const other = await t
      .http()
      .get('/v1/customers')
      .set(a.admin)
      .set('Origin', 'https://evil.example');
    expect(other.status).toBe(200); // CORS is the browser's check; the server only withholds the header
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers preflights for a configured origin only', async () => {
    const preflight = (origin: string) =>
      t.http().options('/v1/customers').set({
        Origin: origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type',
      });
    const allowed = await preflight('http://localhost:3000').expect(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(allowed.headers['access-control-allow-methods']).toContain('POST');
    expect(allowed.headers['access-control-allow-headers']).toMatch(/Authorization/);
    const refused = await preflight('https://evil.example');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('caps page sizes: per_page 1..100 on workflows, limit 1..200 on approvals', async () => {
    await t.http().get('/v1/workflows?per_page=100').set(a.admin).expect(200);
    const workflows = await t.http().get('/v1/workflows?per_page=101').set(a.admin).expect(422);
    expect(workflows.body.detail).toEqual([
      expect.objectContaining({ loc: ['query', 'per_page'] }),
    ]);
    await t.http().get('/v1/approvals?limit=200').set(a.admin).expect(200);
    const approvals = await t.http().get('/v1/approvals?limit=201').set(a.admin).expect(422);
    expect(approvals.body.detail).toEqual([expect.objectContaining({ loc: ['query', 'limit'] })]);
  });
});
