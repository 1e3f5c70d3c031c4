import { sign } from 'jsonwebtoken';
import { TEST_JWT_SECRET, TEST_PLATFORM_KEY, TestApp, startTestApp } from '../helpers/app';
import { TenantSession, token } from '../helpers/factories';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('authentication and guards', () => {
  let t: TestApp;
  let a: TenantSession;
  let customerId: string;

  beforeAll(async () => {
    t = await startTestApp();
    a = await TenantSession.create(t, 'A');
    customerId = await a.customer();
  });
  afterAll(() => t.close());

  const claims = () => ({ tenant_id: a.tenantId, role: 'admin', sub: 'u1' });

  async function expect401(headers: Record<string, string>) {
    const res = await t.http().get('/v1/customers').set(headers);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(typeof res.body.detail).toBe('string');
  }

  it('accepts a valid tenant-admin JWT', async () => {
    const res = await t.http().get('/v1/customers').set(a.admin).expect(200);
    expect(res.body).toEqual({
      customers: [expect.objectContaining({ id: customerId })],
      count: 1,
    });
  });

  it('refuses a missing credential with 401 and WWW-Authenticate', () => expect401({}));

  it('refuses a malformed token', () => expect401({ Authorization: 'Bearer not-a-jwt' }));

  it('refuses a non-Bearer scheme', () => expect401({ Authorization: `Basic ${b64({ x: 1 })}` }));

  it('refuses an expired token', () =>
    expect401({
      Authorization: `Bearer ${sign({ ...claims(), exp: Math.floor(Date.now() / 1000) - 10 }, TEST_JWT_SECRET)}`,
    }));

  it('refuses a token it accepted once it expires, and a copy with another signature', async () => {
    // A second from its own expiry: accepted now (and remembered as verified), refused after.
    const exp = Math.floor(Date.now() / 1000) + 2;
    const accepted = sign({ ...claims(), exp }, TEST_JWT_SECRET);
    const bearer = { Authorization: `Bearer ${accepted}` };
    await t.http().get('/v1/customers').set(bearer).expect(200);
    await t.http().get('/v1/customers').set(bearer).expect(200);
    // The same header and payload with a signature of another secret: verified afresh, refused.
    const [head, body] = accepted.split('.');
    const forged = sign({ ...claims(), exp }, 'another-secret-that-is-also-long-enough!!');
    await expect401({ Authorization: `Bearer ${head}.${body}.${forged.split('.')[2]}` });
    await new Promise((done) => setTimeout(done, (exp + 1) * 1000 - Date.now()));
    await expect401(bearer);
  });

  it('refuses a suspended tenant with a token it had accepted', async () => {
    const b = await TenantSession.create(t, 'Suspended later');
    await t.http().get('/v1/customers').set(b.admin).expect(200);
    await t
      .http()
      .patch(`/platform/v1/tenants/${b.tenantId}`)
      .set({ 'X-Platform-Key': TEST_PLATFORM_KEY })
      .send({ status: 'suspended' })
      .expect(200);
    await t.http().get('/v1/customers').set(b.admin).expect(403);
  });

  it('refuses a token without exp', () =>
    expect401({
      Authorization: `Bearer ${sign(claims(), TEST_JWT_SECRET, { noTimestamp: true })}`,
    }));

  it('refuses alg none', () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims(), exp: 9999999999 })}.`;
    return expect401({ Authorization: `Bearer ${unsigned}` });
  });

  it('refuses a token signed with another secret', () =>
    expect401({
      Authorization: `Bearer ${sign(claims(), 'another-secret-that-is-also-long-enough!!', { expiresIn: 60 })}`,
    }));

  it('refuses another HMAC algorithm than HS256', () =>
    expect401({
      Authorization: `Bearer ${sign(claims(), TEST_JWT_SECRET, { algorithm: 'HS512', expiresIn: 60 })}`,
    }));

  it('refuses tokens whose claims are not of the contract', async () => {
    for (const bad of [
      { ...claims(), tenant_id: 'not-a-uuid' },
      { ...claims(), role: 'owner' },
      { ...claims(), customer_id: 42 },
      { role: 'admin', sub: 'u1' },
    ]) {
      await expect401({ Authorization: `Bearer ${sign(bad, TEST_JWT_SECRET, { expiresIn: 60 })}` });
    }
  });

  it('refuses an unknown, malformed or revoked API key', async () => {
    const key = await a.apiKey('admin');
    await t.http().get('/v1/customers').set(key.headers).expect(200);
    await expect401({ 'X-Api-Key': 'hc_live_nope' });
    await expect401({ 'X-Api-Key': `${key.key.slice(0, -1)}${key.key.endsWith('A') ? 'B' : 'A'}` });
    await t.http().delete(`/v1/api-keys/${key.id}`).set(a.admin).expect(204);
    await expect401(key.headers);
  });

  it('takes role and customer from the API key', async () => {
    const member = await a.apiKey('member');
    await t.http().get('/v1/customers').set(member.headers).expect(403);
    const customerAdmin = await a.apiKey('admin', customerId);
    await t.http().get('/v1/customers').set(customerAdmin.headers).expect(403);
  });

  it('gives 403 to members and customer admins on tenant-admin routes', async () => {
    for (const headers of [a.member(), a.member(customerId), a.customerAdmin(customerId)]) {
      const res = await t.http().get('/v1/customers').set(headers).expect(403);
      expect(res.body).toEqual({ detail: expect.any(String) });
    }
  });

  describe('proxy keys', () => {
    let instanceA: string;
    let instanceB: string;
    let keyA: Awaited<ReturnType<TenantSession['proxyKey']>>;

    beforeAll(async () => {
      instanceA = await a.instance('A1');
      instanceB = await a.instance('A2');
      keyA = await a.proxyKey(instanceA);
    });

    it('authenticates the internal routes of its own instance', async () => {
      const res = await t
        .http()
        .get(`/internal/v1/instances/${instanceA}`)
        .set(keyA.headers)
        .expect(200);
      expect(res.body).toMatchObject({ id: instanceA, tenant_id: a.tenantId });
    });

    it("gets 403 on another instance's path", async () => {
      const res = await t
        .http()
        .get(`/internal/v1/instances/${instanceB}`)
        .set(keyA.headers)
        .expect(403);
      expect(res.body.detail).toMatch(/another instance/);
    });

    it('is refused without a key, with a JWT, or once revoked', async () => {
      const path = `/internal/v1/instances/${instanceA}`;
      expect((await t.http().get(path)).status).toBe(401);
      expect((await t.http().get(path).set(a.admin)).status).toBe(401);
      const spare = await a.proxyKey(instanceA);
      await t.http().get(path).set(spare.headers).expect(200);
      await t
        .http()
        .delete(`/v1/instances/${instanceA}/proxy-keys/${spare.id}`)
        .set(a.admin)
        .expect(204);
      const res = await t.http().get(path).set(spare.headers).expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
    });

    it('is not a dashboard credential', async () => {
      await t.http().get('/v1/customers').set(keyA.headers).expect(401);
    });
  });

  describe('platform key', () => {
    it('is required and compared exactly', async () => {
      expect((await t.http().post('/platform/v1/tenants').send({ name: 'x' })).status).toBe(401);
      const wrong = await t
        .http()
        .post('/platform/v1/tenants')
        .set('X-Platform-Key', `${TEST_PLATFORM_KEY}x`)
        .send({ name: 'x' });
      expect(wrong.status).toBe(401);
      expect(wrong.headers['www-authenticate']).toBe('Bearer');
    });

    it('is not accepted from tenant credentials', async () => {
      await t.http().post('/platform/v1/tenants').set(a.admin).send({ name: 'x' }).expect(401);
    });
  });
});

describe('configured issuer, audience and absent platform key', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      JWT_ISSUER: 'https://id.hydracore.test',
      JWT_AUDIENCE: 'hydracore-api',
      PLATFORM_API_KEY: undefined,
    });
  });
  afterAll(() => t.close());

  it('checks iss and aud when configured', async () => {
    const tenantId = '00000000-0000-4000-8000-000000000001';
    await t.raw.query(`INSERT INTO tenants (id, name) VALUES ($1, 'Issuer test')`, [tenantId]);
    const base = { tenant_id: tenantId, role: 'admin' };
    const good = sign(base, TEST_JWT_SECRET, {
      expiresIn: 60,
      issuer: 'https://id.hydracore.test',
      audience: 'hydracore-api',
    });
    await t.http().get('/v1/customers').set('Authorization', `Bearer ${good}`).expect(200);
    const wrongIssuer = sign(base, TEST_JWT_SECRET, {
      expiresIn: 60,
      issuer: 'https://evil.test',
      audience: 'hydracore-api',
    });
    await t.http().get('/v1/customers').set('Authorization', `Bearer ${wrongIssuer}`).expect(401);
    await t
      .http()
      .get('/v1/customers')
      .set('Authorization', `Bearer ${token(tenantId, 'admin')}`)
      .expect(401);
  });

  it('answers 404 on platform routes when PLATFORM_API_KEY is unset', async () => {
    const res = await t
      .http()
      .post('/platform/v1/tenants')
      .set('X-Platform-Key', TEST_PLATFORM_KEY)
      .send({ name: 'x' });
    expect(res.status).toBe(404);
  });
});
