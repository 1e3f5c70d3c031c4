import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source';
import { TEST_PLATFORM_KEY, TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

describe('directory', () => {
  let t: TestApp;
  let a: TenantSession;
  beforeAll(async () => {
    t = await startTestApp();
    a = await TenantSession.create(t);
  });
  afterAll(() => t.close());

  it('creates tenants for the platform operator', async () => {
    const res = await t
      .http()
      .post('/platform/v1/tenants')
      .set('X-Platform-Key', TEST_PLATFORM_KEY)
      .send({ name: 'Lettings Ltd' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      name: 'Lettings Ltd',
      status: 'active',
      created_at: expect.any(String),
    });
    const row = await t.raw.query('SELECT name FROM tenants WHERE id = $1', [res.body.id]);
    expect(row.rows).toEqual([{ name: 'Lettings Ltd' }]);
  });

  it('creates, lists and reads customers newest first', async () => {
    const first = await a.customer('First');
    const second = await a.customer('Second');
    const list = (await t.http().get('/v1/customers').set(a.admin).expect(200)).body;
    expect(list.count).toBe(list.customers.length);
    expect(list.customers.slice(0, 2).map((c: { id: string }) => c.id)).toEqual([second, first]);
    const one = await t.http().get(`/v1/customers/${first}`).set(a.admin).expect(200);
    expect(one.body).toMatchObject({ id: first, name: 'First', tenant_id: a.tenantId });
    await t
      .http()
      .get('/v1/customers/00000000-0000-4000-8000-000000000000')
      .set(a.admin)
      .expect(404);
  });

  it('creates persons of a customer', async () => {
    const customer = await a.customer();
    const res = await t
      .http()
      .post(`/v1/customers/${customer}/persons`)
      .set(a.admin)
      .send({ name: 'Ada', email: ' Ada@Example.COM ', phone: '+447700900123' })
      .expect(201);
    expect(res.body).toMatchObject({
      customer_id: customer,
      name: 'Ada',
      email: 'ada@example.com',
      phone: '+447700900123',
    });
    const list = (await t.http().get(`/v1/customers/${customer}/persons`).set(a.admin).expect(200))
      .body;
    expect(list).toEqual({ persons: [res.body], count: 1 });
    const bad = await t
      .http()
      .post(`/v1/customers/${customer}/persons`)
      .set(a.admin)
      .send({ name: 'x', email: 'nope' });
    expect(bad.status).toBe(422);
    expect(bad.body.detail[0].loc).toEqual(['body', 'email']);
  });

  it('keeps customers, instances and persons within their caps: 409 past them', async () => {
    const full = await TenantSession.create(t, 'Full');
    const customer = await full.customer('Kept');
    // One short of each cap, written directly; deleted instances and erased persons not counted.
    await t.raw.query(
      `INSERT INTO customers (tenant_id, name) SELECT $1, 'c' || g FROM generate_series(1, 9998) g`,
      [full.tenantId],
    );
    await t.raw.query(
      `INSERT INTO instances (tenant_id, name, deleted_at)
       SELECT $1, 'i' || g, CASE WHEN g = 1 THEN now() END FROM generate_series(1, 1000) g`,
      [full.tenantId],
    );
    await t.raw.query(
      `INSERT INTO persons (tenant_id, customer_id, name)
       SELECT $1, $2, 'p' || g FROM generate_series(1, 9999) g`,
      [full.tenantId, customer],
    );
    const post = (path: string, status: number) =>
      t.http().post(path).set(full.admin).send({ name: 'One more' }).expect(status);
    for (const [path, cap] of [
      ['/v1/customers', '10,000 customers'],
      ['/v1/instances', '1,000 instances'],
      [`/v1/customers/${customer}/persons`, '10,000 persons'],
    ] as const) {
      await post(path, 201);
      const refused = await post(path, 409);
      expect(refused.body.detail).toContain(`at most ${cap}`);
    }
    // Another tenant is not held by this one's caps.
    await t.http().post('/v1/customers').set(a.admin).send({ name: 'Elsewhere' }).expect(201);
  });

  it('keeps a tenant to 100 live API keys, each of which has a rate limit of its own', async () => {
    const keyed = await TenantSession.create(t, 'Keyed');
    // 99 live, and two that no longer count: one revoked, one expired.
    await t.raw.query(
      `INSERT INTO api_keys (tenant_id, name, role, key_hash, key_hint, revoked_at, expires_at)
       SELECT $1, 'k' || g, 'member', decode(md5(g::text), 'hex'), 'hint',
              CASE WHEN g = 100 THEN now() END,
              CASE WHEN g = 101 THEN now() - interval '1 second' END
         FROM generate_series(1, 101) g`,
      [keyed.tenantId],
    );
    const mint = () =>
      t.http().post('/v1/api-keys').set(keyed.admin).send({ name: 'One more', role: 'member' });
    const [first, second] = await Promise.all([mint(), mint()]);
    expect([first.status, second.status].sort()).toEqual([201, 409]);
    const refused = first.status === 409 ? first : second;
    expect(refused.body.detail).toContain('at most 100 live API keys');
    const { rows } = await t.raw.query(
      `SELECT count(*)::int AS n FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL`,
      [keyed.tenantId],
    );
    expect(rows[0].n).toBe(101); // 99 + the one minted + the expired one
  });

  it('lists at most the newest 1,000 of what revoked rows grow: keys and bindings', async () => {
    const many = await TenantSession.create(t, 'Many');
    const customer = await many.customer();
    const person = await many.person(customer);
    await t.raw.query(
      `INSERT INTO api_keys (tenant_id, name, role, key_hash, key_hint, created_at, revoked_at)
       SELECT $1, 'k' || g, 'member', sha256(('k' || g)::bytea), 'hint',
              now() - make_interval(secs => 2000 - g), now()
         FROM generate_series(1, 1001) g`,
      [many.tenantId],
    );
    await t.raw.query(
      `INSERT INTO worker_bindings (tenant_id, customer_id, person_id, channel_type, channel_address,
          status, revoked_at, created_at)
       SELECT $1, $2, $3, 'email', 'b' || g || '@example.com', 'revoked', now(),
              now() - make_interval(secs => 2000 - g)
         FROM generate_series(1, 1001) g`,
      [many.tenantId, customer, person],
    );
    const keys = (
      await t.http().get('/v1/api-keys?include_revoked=true').set(many.admin).expect(200)
    ).body.api_keys as { name: string }[];
    expect(keys).toHaveLength(1000);
    expect(keys.map((k) => k.name)).not.toContain('k1'); // the oldest is the one left out
    const bindings = (
      await t.http().get(`/v1/customers/${customer}/worker-bindings`).set(many.admin).expect(200)
    ).body.bindings as { channel_address: string }[];
    expect(bindings).toHaveLength(1000);
    expect(bindings[0].channel_address).toBe('b1001@example.com');
    expect(bindings.map((b) => b.channel_address)).not.toContain('b1@example.com');
  });

  it('shows a proxy key once and stores only its hash', async () => {
    const instance = await a.instance('Front desk');
    const issued = await t
      .http()
      .post(`/v1/instances/${instance}/proxy-keys`)
      .set(a.admin)
      .send({})
      .expect(201);
    expect(issued.body.key).toMatch(/^hc_proxy_[A-Za-z0-9_-]{65}$/);
    expect(issued.body.key_hint).toBe(issued.body.key.slice(-4));
    const stored = await t.raw.query('SELECT * FROM proxy_keys WHERE id = $1', [issued.body.id]);
    expect(JSON.stringify(stored.rows[0])).not.toContain(issued.body.key.slice(9));
    expect(stored.rows[0].key_hash).toEqual(createHash('sha256').update(issued.body.key).digest());
    const list = (
      await t.http().get(`/v1/instances/${instance}/proxy-keys`).set(a.admin).expect(200)
    ).body;
    expect(list.proxy_keys).toEqual([expect.not.objectContaining({ key: expect.anything() })]);
    expect(list.proxy_keys[0]).not.toHaveProperty('key_hash');
  });

  it('rotates proxy keys: revoked ones leave the default list', async () => {
    const instance = await a.instance();
    const old = await a.proxyKey(instance);
    const fresh = await a.proxyKey(instance);
    await t
      .http()
      .delete(`/v1/instances/${instance}/proxy-keys/${old.id}`)
      .set(a.admin)
      .expect(204);
    await t
      .http()
      .delete(`/v1/instances/${instance}/proxy-keys/${old.id}`)
      .set(a.admin)
      .expect(404);
    const active = (
      await t.http().get(`/v1/instances/${instance}/proxy-keys`).set(a.admin).expect(200)
    ).body;
    expect(active.proxy_keys.map((k: { id: string }) => k.id)).toEqual([fresh.id]);
    const all = (
      await t
        .http()
        .get(`/v1/instances/${instance}/proxy-keys?include_revoked=true`)
        .set(a.admin)
        .expect(200)
    ).body;
    expect(all.count).toBe(2);
  });

  it('issues API keys with role and customer, shown once, stored hashed', async () => {
    const customer = await a.customer();
    const res = await t
      .http()
      .post('/v1/api-keys')
      .set(a.admin)
      .send({ name: 'CI', role: 'member', customer_id: customer })
      .expect(201);
    expect(res.body).toMatchObject({
      name: 'CI',
      role: 'member',
      customer_id: customer,
      revoked_at: null,
    });
    expect(res.body.key).toMatch(/^hc_live_/);
    const stored = await t.raw.query('SELECT key_hash FROM api_keys WHERE id = $1', [res.body.id]);
    expect(stored.rows[0].key_hash).toEqual(createHash('sha256').update(res.body.key).digest());
    const list = (await t.http().get('/v1/api-keys').set(a.admin).expect(200)).body;
    const listed = list.api_keys.find((k: { id: string }) => k.id === res.body.id);
    expect(listed).toBeDefined();
    expect(listed).not.toHaveProperty('key');
    expect(listed).not.toHaveProperty('key_hash');
  });
});

describe('migrations', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('reverts every migration and applies them again', async () => {
    await t.app.close(); // free the database for the owner's DDL
    const dataSource = await new DataSource(dataSourceOptions(t.databaseUrl, 2)).initialize();
    try {
      const applied = Number(
        (await dataSource.query('SELECT count(*) FROM schema_migrations'))[0].count,
      );
      for (let i = 0; i < applied; i++) await dataSource.undoLastMigration({ transaction: 'each' });
      const left = await dataSource.query(
        `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'`,
      );
      expect(left).toEqual([]);
      expect((await dataSource.runMigrations({ transaction: 'each' })).length).toBe(applied);
    } finally {
      await dataSource.destroy();
    }
  });
});
