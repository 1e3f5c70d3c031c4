import { TenantDb } from '../../src/database/tenant-db';
import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

/**
 * A key this replica has seen authenticate is not looked up in a transaction of its own again:
 * whether it still works is read in the request's own transaction. These tests change a
 * remembered key or its tenant behind the replica's back, as another replica or an operator
 * would, and check that the next request is refused and writes nothing.
 */
describe('remembered keys', () => {
  let t: TestApp;
  let a: TenantSession;
  let customer: string;
  beforeAll(async () => {
    t = await startTestApp();
    a = await TenantSession.create(t);
    customer = await a.customer();
  });
  afterAll(() => t.close());

  const postEvent = (instance: string, headers: Record<string, string>) =>
    t
      .http()
      .post(`/internal/v1/instances/${instance}/events`)
      .set(headers)
      .send({ event: 'skill.invoked', customer_id: customer, payload: {} });
  const recordedEvents = async (instance: string) =>
    Number(
      (
        await t.raw.query(
          `SELECT count(*) FROM events WHERE instance_id = $1 AND type = 'skill.invoked'`,
          [instance],
        )
      ).rows[0].count,
    );

  it('cost no lookup of their own once seen, and still answer as before', async () => {
    const instance = await a.instance();
    const { headers } = await a.proxyKey(instance);
    const lookups = jest.spyOn(t.app.get(TenantDb), 'readOnce');
    try {
      await postEvent(instance, headers).expect(200);
      expect(lookups).toHaveBeenCalledTimes(1);
      for (let i = 0; i < 3; i++) await postEvent(instance, headers).expect(200);
      expect(lookups).toHaveBeenCalledTimes(1);
      expect(await recordedEvents(instance)).toBe(4);
    } finally {
      lookups.mockRestore();
    }
  });

  it('are refused once revoked elsewhere, and the request writes nothing', async () => {
    const instance = await a.instance();
    const { id, headers } = await a.proxyKey(instance);
    await postEvent(instance, headers).expect(200);
    await t.raw.query(`UPDATE proxy_keys SET revoked_at = now() WHERE id = $1`, [id]);
    const refused = await postEvent(instance, headers).expect(401);
    expect(refused.body).toEqual({ detail: 'Invalid proxy key' });
    expect(refused.headers['www-authenticate']).toBe('Bearer');
    expect(await recordedEvents(instance)).toBe(1);
    await postEvent(instance, headers).expect(401); // forgotten: refused by the lookup now
  });

  it('are refused past an expiry reached since they were seen', async () => {
    const instance = await a.instance();
    const { id, headers } = await a.proxyKey(instance);
    await postEvent(instance, headers).expect(200);
    await t.raw.query(
      `UPDATE proxy_keys SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [id],
    );
    await postEvent(instance, headers).expect(401);
    expect(await recordedEvents(instance)).toBe(1);
  });

  it('are refused on the routes that open their own transactions (the feed)', async () => {
    const instance = await a.instance();
    const { id, headers } = await a.proxyKey(instance);
    const feed = () => t.http().get(`/internal/v1/instances/${instance}/events`).set(headers);
    await feed().expect(200);
    await t.raw.query(`UPDATE proxy_keys SET revoked_at = now() WHERE id = $1`, [id]);
    await feed().expect(401);
  });

  it('answer 403 once their tenant is suspended elsewhere', async () => {
    const b = await TenantSession.create(t, 'Suspended later');
    const instance = await b.instance();
    const { headers } = await b.proxyKey(instance);
    const api = await b.apiKey();
    const memberKey = await b.apiKey('member');
    const bCustomer = await b.customer();
    await t.http().get('/v1/customers').set(api.headers).expect(200);
    await t.http().get('/v1/rules').set(memberKey.headers).expect(200);
    const event = () =>
      t
        .http()
        .post(`/internal/v1/instances/${instance}/events`)
        .set(headers)
        .send({ event: 'skill.invoked', customer_id: bCustomer, payload: {} });
    await event().expect(200);
    await t.raw.query(`UPDATE tenants SET status = 'suspended' WHERE id = $1`, [b.tenantId]);
    expect((await event().expect(403)).body).toEqual({ detail: 'Tenant suspended' });
    await t.http().post('/v1/customers').set(api.headers).send({ name: 'x' }).expect(403);
    const member = await t.http().get('/v1/audit-log').set(memberKey.headers).expect(403);
    expect(member.body).toEqual({ detail: 'Tenant suspended' }); // not "Admin role required"
    await event().expect(403); // forgotten: refused by the lookup now
    expect(await recordedEvents(instance)).toBe(1);
    const customers = await t.raw.query(`SELECT count(*) FROM customers WHERE tenant_id = $1`, [
      b.tenantId,
    ]);
    expect(Number(customers.rows[0].count)).toBe(1);
  });

  it('get 401, not the 403 of what they name, once revoked', async () => {
    const member = await a.apiKey('member');
    await t.http().get('/v1/rules').set(member.headers).expect(200);
    await t.http().get('/v1/audit-log').set(member.headers).expect(403); // still working
    await t.raw.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1`, [member.id]);
    const refused = await t.http().get('/v1/audit-log').set(member.headers).expect(401);
    expect(refused.body).toEqual({ detail: 'Invalid API key' });
    expect(refused.headers['www-authenticate']).toBe('Bearer');

    const instance = await a.instance();
    const other = await a.instance('Other');
    const proxy = await a.proxyKey(instance);
    await postEvent(instance, proxy.headers).expect(200);
    await postEvent(other, proxy.headers).expect(403); // still working, another instance
    await t.raw.query(`UPDATE proxy_keys SET revoked_at = now() WHERE id = $1`, [proxy.id]);
    const elsewhere = await postEvent(other, proxy.headers).expect(401);
    expect(elsewhere.body).toEqual({ detail: 'Invalid proxy key' });
  });

  it('are refused before a large body is read', async () => {
    const instance = await a.instance();
    const { id, headers } = await a.proxyKey(instance);
    await postEvent(instance, headers).expect(200);
    await t.raw.query(`UPDATE proxy_keys SET revoked_at = now() WHERE id = $1`, [id]);
    const malformed = `{"event": "skill.invoked", "payload": "${'x'.repeat(100_000)}"`;
    const res = await t
      .http()
      .post(`/internal/v1/instances/${instance}/events`)
      .set(headers)
      .set('content-type', 'application/json')
      .send(malformed);
    expect(res.status).toBe(401); // the malformed body would be a 422
  });

  it('stamp an API key last use as a looked-up key does', async () => {
    const { id, headers } = await a.apiKey();
    const stamp = async () =>
      (await t.raw.query(`SELECT last_used_at FROM api_keys WHERE id = $1`, [id])).rows[0]
        .last_used_at as Date | null;
    await t.http().get('/v1/customers').set(headers).expect(200);
    const first = await stamp();
    expect(first).not.toBeNull();
    await t.raw.query(
      `UPDATE api_keys SET last_used_at = now() - interval '2 minutes' WHERE id = $1`,
      [id],
    );
    const aged = await stamp();
    await t.http().get('/v1/customers').set(headers).expect(200);
    expect((await stamp())!.getTime()).toBeGreaterThan(aged!.getTime());
  });
});
