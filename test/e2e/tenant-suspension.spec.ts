import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { ApprovalSweeper } from '../../src/approvals/approval-sweeper';
import { CredentialStore, TENANT_STATUS_TRUSTED_MS } from '../../src/auth/credential.store';
import { WorkflowSweeper } from '../../src/workflows/workflow-sweeper';
import { TEST_PLATFORM_KEY, TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';
import { holdLock, lockWaiters, until } from '../helpers/locks';
import { startAppOnSameDatabase } from '../helpers/same-database-app';

const platform = { 'X-Platform-Key': TEST_PLATFORM_KEY };

/** Everything a tenant's rows say, to check a refused call changed nothing. */
async function fingerprint(t: TestApp, tenantId: string): Promise<string> {
  const { rows } = await t.raw.query(
    `SELECT (SELECT json_agg(c ORDER BY id) FROM customers c WHERE tenant_id = $1) AS customers,
            (SELECT json_agg(i ORDER BY id) FROM instances i WHERE tenant_id = $1) AS instances,
            (SELECT json_agg(k ORDER BY id) FROM api_keys k WHERE tenant_id = $1) AS api_keys,
            (SELECT json_agg(k ORDER BY id) FROM proxy_keys k WHERE tenant_id = $1) AS proxy_keys`,
    [tenantId],
  );
  return JSON.stringify(rows[0]);
}

describe('tenant suspension', () => {
  let t: TestApp;
  let a: TenantSession;
  let b: TenantSession;
  let apiKey: Record<string, string>;
  let proxyKey: Record<string, string>;
  let instance: string;
  beforeAll(async () => {
    t = await startTestApp();
    a = await TenantSession.create(t, 'Suspended Ltd');
    b = await TenantSession.create(t, 'Bystander Ltd');
    apiKey = (await a.apiKey()).headers;
    instance = await a.instance();
    proxyKey = (await a.proxyKey(instance)).headers;
  });
  afterAll(() => t.close());

  const setStatus = (id: string, status: string) =>
    t.http().patch(`/platform/v1/tenants/${id}`).set(platform).send({ status });

  /** One call per credential kind, the last of them a write. */
  const calls = () => [
    t.http().get('/v1/customers').set(a.admin),
    t.http().get('/v1/customers').set(apiKey),
    t.http().get(`/internal/v1/instances/${instance}`).set(proxyKey),
    t.http().post('/v1/customers').set(apiKey).send({ name: 'During suspension' }),
  ];

  it('lists tenants by id, in pages', async () => {
    const all = await t.http().get('/platform/v1/tenants').set(platform).expect(200);
    const ids = [a.tenantId, b.tenantId].sort();
    expect(all.body.count).toBe(all.body.tenants.length);
    expect(all.body.tenants.map((x: { id: string }) => x.id)).toEqual(ids);
    expect(all.body.tenants[0]).toEqual({
      id: ids[0],
      name: expect.any(String),
      status: 'active',
      created_at: expect.any(String),
    });
    const page = await t
      .http()
      .get(`/platform/v1/tenants?limit=1&after=${ids[0]}`)
      .set(platform)
      .expect(200);
    expect(page.body).toMatchObject({ count: 1, tenants: [{ id: ids[1] }] });
    await t.http().get('/platform/v1/tenants').set(a.admin).expect(401);
  });

  it('refuses every credential of a suspended tenant, serves the others, and restores them', async () => {
    for (const res of await Promise.all(calls())) expect(res.status).toBeLessThan(300);
    const before = await fingerprint(t, a.tenantId);

    const suspended = await setStatus(a.tenantId, 'suspended').expect(200);
    expect(suspended.body).toMatchObject({ id: a.tenantId, status: 'suspended' });
    for (const res of await Promise.all(calls())) {
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ detail: 'Tenant suspended' });
    }
    expect(await fingerprint(t, a.tenantId)).toBe(before);
    await t.http().get('/v1/customers').set(b.admin).expect(200);
    await t.http().post('/v1/customers').set(b.admin).send({ name: 'Served' }).expect(201);

    await setStatus(a.tenantId, 'active').expect(200);
    for (const res of await Promise.all(calls())) expect(res.status).toBeLessThan(300);
  });

  it("leaves a suspended tenant's timers alone until it is active again", async () => {
    const s = await TenantSession.create(t, 'Frozen Ltd');
    const sInstance = await s.instance();
    const runtime = (await s.proxyKey(sInstance)).headers;
    const customers = [await s.customer(), await b.customer()];
    const workflow = (
      await t
        .http()
        .post(`/internal/v1/instances/${sInstance}/workflows`)
        .set(runtime)
        .send({ customer_id: customers[0], workflow_type: 'lead' })
        .expect(201)
    ).body.id as string;
    const bInstance = await b.instance();
    const approvals: string[] = [];
    for (const [session, instanceId, customer] of [
      [s, sInstance, customers[0]],
      [b, bInstance, customers[1]],
    ] as const) {
      const key = session === s ? runtime : (await b.proxyKey(bInstance)).headers;
      const res = await t
        .http()
        .post(`/internal/v1/instances/${instanceId}/approvals/request`)
        .set(key)
        .send({
          customer_id: customer,
          skill_slug: 'payments',
          action: 'pay_contractor',
          serialized_intent: { amount: 1 },
        })
        .expect(201);
      approvals.push(res.body.id);
    }
    await t.raw.query(
      `UPDATE workflows SET expires_at = now() - interval '1 minute' WHERE id = $1`,
      [workflow],
    );
    await t.raw.query(
      `UPDATE approvals SET expires_at = now() - interval '1 minute' WHERE id = ANY($1)`,
      [approvals],
    );
    const state = async () =>
      (
        await t.raw.query(
          `SELECT (SELECT status FROM workflows WHERE id = $1) AS workflow,
                  array(SELECT status FROM approvals WHERE id = ANY($2) ORDER BY tenant_id = $3 DESC) AS approvals`,
          [workflow, approvals, s.tenantId],
        )
      ).rows[0];

    await setStatus(s.tenantId, 'suspended').expect(200);
    await t.app.get(WorkflowSweeper).runOnce();
    await t.app.get(ApprovalSweeper).runOnce();
    // The other tenant's approval expires in the same pass; nothing of the suspended one changes.
    expect(await state()).toEqual({ workflow: 'active', approvals: ['pending', 'expired'] });

    await setStatus(s.tenantId, 'active').expect(200);
    await t.app.get(WorkflowSweeper).runOnce();
    await t.app.get(ApprovalSweeper).runOnce();
    expect(await state()).toEqual({ workflow: 'expired', approvals: ['expired', 'expired'] });
  });

  it('reaches another replica within the documented bound', async () => {
    let other: NestFastifyApplication | undefined;
    try {
      other = await startAppOnSameDatabase(t);
      const server = other.getHttpServer();
      await request(server).get('/v1/customers').set(a.admin).expect(200); // its status is cached
      await setStatus(a.tenantId, 'suspended').expect(200);
      await new Promise((resolve) => setTimeout(resolve, TENANT_STATUS_TRUSTED_MS + 500));
      const res = await request(server).get('/v1/customers').set(a.admin);
      expect(res.status).toBe(403);
      await request(server).get('/v1/customers').set(apiKey).expect(403); // keys: never stale
    } finally {
      await setStatus(a.tenantId, 'active');
      await other?.close();
    }
  });

  it('does not believe a status read that ran while this replica changed it', async () => {
    const c = await TenantSession.create(t, 'Racing Ltd');
    const store = t.app.get(CredentialStore);
    // The read of the status waits behind a held table lock; meanwhile this replica changes the
    // tenant (forgetTenant is what its status route calls after committing).
    const release = await holdLock(t, 'LOCK TABLE tenants IN ACCESS EXCLUSIVE MODE');
    let racing: Promise<string | null> | undefined;
    try {
      racing = store.tenantStatus(c.tenantId);
      await until(async () => (await lockWaiters(t)) === 1);
      store.forgetTenant(c.tenantId);
    } finally {
      await release();
    }
    expect(await racing).toBe('active'); // what it read, from before the change
    await t.raw.query(`UPDATE tenants SET status = 'suspended' WHERE id = $1`, [c.tenantId]);
    expect(await store.tenantStatus(c.tenantId)).toBe('suspended'); // asked again
  });

  it('refuses a bad status and an unknown tenant', async () => {
    const bad = await setStatus(a.tenantId, 'paused').expect(422);
    expect(bad.body.detail[0].loc).toEqual(['body', 'status']);
    await setStatus('00000000-0000-4000-8000-000000000000', 'suspended').expect(404);
  });
});

describe('tenant suspension and the budget of failed authentications', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ AUTH_FAILURES_PER_MINUTE: '2' });
  });
  afterAll(() => t.close());

  it('does not charge a suspended tenant’s right keys as guesses', async () => {
    const a = await TenantSession.create(t);
    const { headers } = await a.apiKey();
    await t
      .http()
      .patch(`/platform/v1/tenants/${a.tenantId}`)
      .set(platform)
      .send({ status: 'suspended' })
      .expect(200);
    for (let i = 0; i < 4; i++) await t.http().get('/v1/customers').set(headers).expect(403);
  });
});
