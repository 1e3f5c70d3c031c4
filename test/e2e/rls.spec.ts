import { TestApp, asRuntimeRole, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

describe('row-level security', () => {
  let t: TestApp;
  let a: TenantSession;
  let b: TenantSession;
  let ids: {
    aCustomer: string;
    bCustomer: string;
    bPerson: string;
    bInstance: string;
    bApiKey: string;
  };

  beforeAll(async () => {
    t = await startTestApp();
    a = await TenantSession.create(t, 'A');
    b = await TenantSession.create(t, 'B');
    await a.instance('A instance');
    const bCustomer = await b.customer('B customer');
    const bInstance = await b.instance('B instance');
    await b.proxyKey(bInstance);
    ids = {
      aCustomer: await a.customer('A customer'),
      bCustomer,
      bPerson: await b.person(bCustomer),
      bInstance,
      bApiKey: (await b.apiKey('admin')).id,
    };
  });
  afterAll(() => t.close());

  const count = async (table: string) =>
    Number((await t.raw.query(`SELECT count(*) FROM ${table}`)).rows[0].count);

  describe('through the API, tenant A cannot see or change tenant B', () => {
    it('lists only its own rows', async () => {
      const customers = (await t.http().get('/v1/customers').set(a.admin).expect(200)).body;
      expect(customers.customers.map((c: { id: string }) => c.id)).toEqual([ids.aCustomer]);
      const instances = (await t.http().get('/v1/instances').set(a.admin).expect(200)).body;
      expect(
        instances.instances.every((i: { tenant_id: string }) => i.tenant_id === a.tenantId),
      ).toBe(true);
      const keys = (
        await t.http().get('/v1/api-keys?include_revoked=true').set(a.admin).expect(200)
      ).body;
      expect(keys.api_keys.map((k: { id: string }) => k.id)).not.toContain(ids.bApiKey);
    });

    it.each([
      ['GET', () => `/v1/customers/${ids.bCustomer}`],
      ['GET', () => `/v1/customers/${ids.bCustomer}/persons`],
      ['GET', () => `/v1/instances/${ids.bInstance}/proxy-keys`],
    ])('%s %s → 404', async (_method, path) => {
      const res = await t.http().get(path()).set(a.admin).expect(404);
      expect(res.body).toEqual({ detail: expect.stringMatching(/not found/) });
    });

    it('cannot write under B’s rows, and nothing is written', async () => {
      const before = {
        persons: await count('persons'),
        keys: await count('proxy_keys'),
        apiKeys: await count('api_keys'),
      };
      await t
        .http()
        .post(`/v1/customers/${ids.bCustomer}/persons`)
        .set(a.admin)
        .send({ name: 'x' })
        .expect(404);
      await t
        .http()
        .post(`/v1/instances/${ids.bInstance}/proxy-keys`)
        .set(a.admin)
        .send({})
        .expect(404);
      const apiKey = await t
        .http()
        .post('/v1/api-keys')
        .set(a.admin)
        .send({ name: 'x', role: 'admin', customer_id: ids.bCustomer });
      expect(apiKey.status).toBe(422);
      expect(apiKey.body.detail[0].loc).toEqual(['body', 'customer_id']);
      await t.http().delete(`/v1/api-keys/${ids.bApiKey}`).set(a.admin).expect(404);
      expect({
        persons: await count('persons'),
        keys: await count('proxy_keys'),
        apiKeys: await count('api_keys'),
      }).toEqual(before);
      const bKey = await t.raw.query('SELECT revoked_at FROM api_keys WHERE id = $1', [
        ids.bApiKey,
      ]);
      expect(bKey.rows[0].revoked_at).toBeNull();
    });

    it('cannot use its proxy key on B’s instance', async () => {
      const instance = await a.instance();
      const key = await a.proxyKey(instance);
      await t.http().get(`/internal/v1/instances/${ids.bInstance}`).set(key.headers).expect(403);
    });
  });

  describe('in the database', () => {
    it('shows the runtime role nothing when no tenant is set', async () => {
      expect(await count('customers')).toBeGreaterThan(0);
      for (const table of [
        'customers',
        'persons',
        'instances',
        'proxy_keys',
        'api_keys',
        'tenants',
      ]) {
        const rows = await asRuntimeRole(t, null, (c) => c.query(`SELECT count(*) FROM ${table}`));
        expect([table, Number(rows.rows[0].count)]).toEqual([table, 0]);
      }
    });

    it('shows the owner role nothing either (RLS is forced)', async () => {
      const res = await t.owner.query('SELECT count(*) FROM customers');
      expect(Number(res.rows[0].count)).toBe(0);
    });

    it('runs requests as a role that is neither superuser, owner nor BYPASSRLS', async () => {
      const role = await t.raw.query(
        `SELECT rolsuper, rolbypassrls, rolcanlogin,
                EXISTS (SELECT 1 FROM pg_tables WHERE tableowner = 'hydracore_app') AS owns
           FROM pg_roles WHERE rolname = 'hydracore_app'`,
      );
      expect(role.rows[0]).toEqual({
        rolsuper: false,
        rolbypassrls: false,
        rolcanlogin: false,
        owns: false,
      });
    });

    it('sees only the current tenant and refuses rows of another', async () => {
      await asRuntimeRole(t, a.tenantId, async (c) => {
        const seen = await c.query('SELECT DISTINCT tenant_id FROM customers');
        expect(seen.rows).toEqual([{ tenant_id: a.tenantId }]);
        await expect(
          c.query(`INSERT INTO customers (tenant_id, name) VALUES ($1, 'smuggled')`, [b.tenantId]),
        ).rejects.toMatchObject({ code: '42501' });
      });
    });

    it('refuses a foreign key to another tenant’s row', async () => {
      await asRuntimeRole(t, a.tenantId, async (c) => {
        await expect(
          c.query(`INSERT INTO persons (tenant_id, customer_id, name) VALUES ($1, $2, 'x')`, [
            a.tenantId,
            ids.bCustomer,
          ]),
        ).rejects.toMatchObject({ code: '23503' });
      });
    });

    it('forces RLS with a WITH CHECK policy on every table that has tenant_id', async () => {
      const tables = await t.raw.query(`
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
               (SELECT count(*) FROM pg_policies p
                 WHERE p.schemaname = 'public' AND p.tablename = c.relname
                   AND p.with_check IS NOT NULL AND p.with_check = p.qual
                   AND p.qual LIKE '%current_setting(''app.tenant_id''%') AS policies
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind = 'r'
           AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)`);
      expect(tables.rows.length).toBeGreaterThanOrEqual(5);
      for (const row of tables.rows) {
        expect(row).toEqual({
          relname: row.relname,
          relrowsecurity: true,
          relforcerowsecurity: true,
          policies: '1',
        });
      }
    });

    it('leads every index of a tenant table with tenant_id, but the platform-wide routing key', async () => {
      const indexes = await t.raw.query(`
        SELECT i.indexrelid::regclass::text AS index, a.attname AS first
          FROM pg_index i
          JOIN pg_class c ON c.oid = i.indrelid
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
         WHERE c.relnamespace = 'public'::regnamespace
           AND EXISTS (SELECT 1 FROM pg_attribute t WHERE t.attrelid = c.oid AND t.attname = 'tenant_id')`);
      // Inbound webhooks find their endpoint by (channel_type, provider, external_identifier)
      // before any tenant is known, so that key is unique across the platform (inbound webhooks are routed by it).
      // The workflow timers and approval expiry find what is due across all tenants once a
      // second: an index led by the time reads only the rows due now, where one led by the
      // tenant would be read whole.
      const exceptions = [
        'approvals_expired',
        'channel_endpoints_routing_key',
        'workflows_due',
        'workflows_expiry',
      ];
      expect(
        indexes.rows
          .filter((r) => r.first !== 'tenant_id')
          .map((r) => r.index)
          .sort(),
      ).toEqual(exceptions);
    });
  });
});

describe('tenant context over a pool of one connection', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ DB_POOL_SIZE: '1' });
  });
  afterAll(() => t.close());

  it('never leaks from one request to the next', async () => {
    const tenants = [await TenantSession.create(t, 'A'), await TenantSession.create(t, 'B')];
    const own = await Promise.all(tenants.map((s) => s.customer()));
    for (let round = 0; round < 10; round++) {
      for (const [i, session] of tenants.entries()) {
        const res = await t.http().get('/v1/customers').set(session.admin).expect(200);
        expect(res.body.customers.map((c: { id: string }) => c.id)).toEqual([own[i]]);
        // A request that fails mid-transaction (404 → rollback) must not leak either.
        await t
          .http()
          .get(`/v1/customers/${own[1 - i]}`)
          .set(session.admin)
          .expect(404);
      }
    }
    const concurrent = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        t
          .http()
          .get('/v1/customers')
          .set(tenants[n % 2].admin),
      ),
    );
    concurrent.forEach((res, n) =>
      expect(res.body.customers.map((c: { id: string }) => c.id)).toEqual([own[n % 2]]),
    );

    // Key lookups run in a transaction of their own, sent in one round trip: found or not,
    // it ends before the connection goes back, and the request after it sees its own tenant.
    const keys = await Promise.all(tenants.map((s) => s.apiKey()));
    for (let round = 0; round < 5; round++) {
      for (const [i, key] of keys.entries()) {
        const res = await t.http().get('/v1/customers').set(key.headers).expect(200);
        expect(res.body.customers.map((c: { id: string }) => c.id)).toEqual([own[i]]);
        const unknown = `${key.key.slice(0, -4)}${key.key.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
        await t.http().get('/v1/customers').set('X-Api-Key', unknown).expect(401);
      }
    }

    // The one pooled connection is back to the owner with no tenant set.
    const dataSource = t.app.get((await import('typeorm')).DataSource);
    const state = await dataSource.query(
      `SELECT current_user AS role, current_setting('app.tenant_id', true) AS tenant`,
    );
    expect(state[0]).toEqual({ role: 'hydracore', tenant: '' });
  });
});
