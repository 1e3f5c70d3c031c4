import { TenantDb } from '../../src/database/tenant-db';
import { WorkflowSweeper } from '../../src/workflows/workflow-sweeper';
import { TEST_PLATFORM_KEY, TestApp, startTestApp } from '../helpers/app';
import { TenantSession, token } from '../helpers/factories';
import { holdLock, lockWaiters, until } from '../helpers/locks';

/** Tenant A with a workflow its runtime can change, and tenant B beside it. */
async function world(t: TestApp) {
  const a = await TenantSession.create(t, 'A');
  const b = await TenantSession.create(t, 'B');
  const customer = await a.customer();
  await b.customer();
  const instance = await a.instance();
  const runtime = (await a.proxyKey(instance)).headers;
  const base = `/internal/v1/instances/${instance}/workflows`;
  const created = await t
    .http()
    .post(base)
    .set(runtime)
    .send({ customer_id: customer, workflow_type: 'lead' });
  expect(created.status).toBe(201);
  const patch = () =>
    t.http().patch(`${base}/${created.body.id}`).set(runtime).send({ action: 'noted' });
  return { a, b, workflowId: created.body.id as string, patch };
}

const historyLength = async (t: TestApp, id: string) =>
  Number(
    (
      await t.raw.query('SELECT jsonb_array_length(history) AS n FROM workflows WHERE id = $1', [
        id,
      ])
    ).rows[0].n,
  );

describe('a wait on a row another request holds', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ DB_LOCK_TIMEOUT_MS: '300' });
  });
  afterAll(() => t.close());

  it('ends as 409 "busy, retry" with Retry-After: 1 after the lock timeout, changing nothing', async () => {
    const { workflowId, patch } = await world(t);
    const release = await holdLock(t, 'SELECT 1 FROM workflows WHERE id = $1 FOR UPDATE', [
      workflowId,
    ]);
    try {
      const started = Date.now();
      const res = await patch();
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ detail: expect.stringMatching(/^Busy/) });
      expect(res.headers['retry-after']).toBe('1');
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await release();
    }
    expect(await historyLength(t, workflowId)).toBe(1);
    expect((await patch()).status).toBe(200); // released: served again
  });
});

describe('a statement past the statement timeout', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Lock waits allowed longer than statements, so the statement timeout is what ends this one.
    t = await startTestApp({ DB_STATEMENT_TIMEOUT_MS: '300', DB_LOCK_TIMEOUT_MS: '10000' });
  });
  afterAll(() => t.close());

  it('is cancelled and answered 503 with Retry-After, not held open', async () => {
    const { a } = await world(t);
    const release = await holdLock(t, 'LOCK TABLE customers IN ACCESS EXCLUSIVE MODE');
    try {
      const started = Date.now();
      const res = await t.http().get('/v1/customers').set(a.admin);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ detail: expect.stringMatching(/took too long/) });
      expect(res.headers['retry-after']).toBeDefined();
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await release();
    }
  });
});

describe('one tenant holds at most its share of the pool', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      DB_POOL_SIZE: '4',
      DB_TENANT_MAX_CONNECTIONS: '2',
      DB_LOCK_TIMEOUT_MS: '1500',
      DB_STATEMENT_TIMEOUT_MS: '3000',
    });
  });
  afterAll(() => t.close());

  it("keeps another tenant's reads fast and 2xx while the first storms one locked row", async () => {
    const { a, b, workflowId, patch } = await world(t);
    const release = await holdLock(t, 'SELECT 1 FROM workflows WHERE id = $1 FOR UPDATE', [
      workflowId,
    ]);
    try {
      // Twelve changes of one held row: without a share, four of them take the whole pool.
      const storm = Array.from({ length: 12 }, () => patch().then((res) => res)); // sent now
      // The storm fills its share as soon as its first two requests are authenticated.
      const gate = t.app.get(TenantDb).admission.gate;
      for (let waited = 0; gate.load(a.tenantId).held < 2 && waited < 2000; waited += 20) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(gate.load(a.tenantId).held).toBe(2);
      const reads: { status: number; ms: number }[] = [];
      for (let i = 0; i < 10; i++) {
        const started = Date.now();
        const res = await t.http().get('/v1/customers').set(b.admin);
        reads.push({ status: res.status, ms: Date.now() - started });
      }
      expect(reads.map((r) => r.status)).toEqual(Array(10).fill(200));
      // Queued behind A's lock waiters, a read would take at least their 1.5 s lock timeout;
      // well under it, it did not queue, even on a loaded machine.
      expect(Math.max(...reads.map((r) => r.ms))).toBeLessThan(1000);
      const answers = await Promise.all(storm);
      // Each of A's own requests waited its turn and is told to retry: busy (409), queued past
      // its wait (429), or, on a machine too loaded to open a pooled connection in time, 503.
      // Printed whole when one is anything else, so a rare failure says what it was.
      const seen = answers.map((res) => ({
        status: res.status,
        detail: res.body.detail as unknown,
        retryAfter: res.headers['retry-after'],
      }));
      for (const answer of seen) {
        expect({ ...answer, retryable: [409, 429, 503].includes(answer.status) }).toEqual({
          ...answer,
          detail: expect.any(String),
          retryAfter: answer.status === 503 ? expect.any(String) : '1',
          retryable: true,
        });
      }
      expect(seen.filter((a) => a.status === 409).length).toBeGreaterThan(0);
    } finally {
      await release();
    }
    expect(await historyLength(t, workflowId)).toBe(1);
    expect(t.app.get(TenantDb).admission.gate.load(a.tenantId)).toEqual({ held: 0, waiting: 0 });
  });

  it("keeps background jobs serving every tenant, at once, while one tenant's share is full", async () => {
    // First in id order, so the sweep meets it before anyone else.
    const first = '00000000-0000-4000-8000-000000000000';
    await t.raw.query(`INSERT INTO tenants (id, name) VALUES ($1, 'First')`, [first]);
    const admin = { Authorization: `Bearer ${token(first, 'admin')}` };
    const post = async (path: string, body: object, headers = admin) =>
      (await t.http().post(path).set(headers).send(body).expect(201)).body as {
        id: string;
        key: string;
      };
    const customer = (await post('/v1/customers', { name: 'C' })).id;
    const instance = (await post('/v1/instances', { name: 'I' })).id;
    const runtime = {
      Authorization: `Bearer ${(await post(`/v1/instances/${instance}/proxy-keys`, {})).key}`,
    };
    const base = `/internal/v1/instances/${instance}/workflows`;
    const held = (await post(base, { customer_id: customer, workflow_type: 'lead' }, runtime)).id;
    const other = await world(t); // another tenant, with a workflow now past its expiry
    await t.raw.query(
      `UPDATE workflows SET expires_at = now() - interval '1 minute' WHERE id = $1`,
      [other.workflowId],
    );

    const release = await holdLock(t, 'SELECT 1 FROM workflows WHERE id = $1 FOR UPDATE', [held]);
    try {
      const storm = Array.from({ length: 6 }, () =>
        t
          .http()
          .patch(`${base}/${held}`)
          .set(runtime)
          .send({ action: 'noted' })
          .then((r) => r),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      // The job is the platform's work, not the tenant's: it does not queue behind the tenant.
      const started = Date.now();
      expect(await t.app.get(WorkflowSweeper).runOnce()).toBe(1);
      expect(Date.now() - started).toBeLessThan(1000);
      await Promise.all(storm);
    } finally {
      await release();
    }
    const { rows } = await t.raw.query('SELECT status FROM workflows WHERE id = $1', [
      other.workflowId,
    ]);
    expect(rows[0].status).toBe('expired');
  });
});

describe('large bodies', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ DB_LOCK_TIMEOUT_MS: '1500' });
  });
  afterAll(() => t.close());

  /** A runtime of `tenant` that can create workflows; its bodies are over 64 KiB. */
  async function runtimeOf(tenant: TenantSession) {
    const customer = await tenant.customer();
    const instance = await tenant.instance();
    const headers = (await tenant.proxyKey(instance)).headers;
    const base = `/internal/v1/instances/${instance}/workflows`;
    const state = { blob: 'x'.repeat(70_000) };
    const create = () =>
      t
        .http()
        .post(base)
        .set(headers)
        .send({ customer_id: customer, workflow_type: 'lead', workflow_state: state })
        .then((res) => res);
    const change = (id: string) =>
      t
        .http()
        .patch(`${base}/${id}`)
        .set(headers)
        .send({ action: 'noted', workflow_state: state })
        .then((res) => res);
    return { create, change };
  }

  it('are parsed once the caller is known, never for one without a credential', async () => {
    const malformed = `{"name": ${' '.repeat(100_000)}`; // read, it is a 422
    const post = (path: string, headers: Record<string, string>) =>
      t
        .http()
        .post(path)
        .set({ 'Content-Type': 'application/json', ...headers })
        .send(malformed);
    expect((await post('/v1/customers', {})).status).toBe(401);
    // The platform's key, which runs in no tenant's transaction, has it read as well.
    const platform = await post('/platform/v1/tenants', { 'X-Platform-Key': TEST_PLATFORM_KEY });
    expect([platform.status, platform.body.detail[0].type]).toEqual([422, 'json_invalid']);
    const tenant = await TenantSession.create(t, 'C');
    const admin = await post('/v1/customers', tenant.admin);
    expect([admin.status, admin.body.detail[0].type]).toEqual([422, 'json_invalid']);
  });

  it('take turns within a tenant, not across tenants', async () => {
    const a = await runtimeOf(await TenantSession.create(t, 'A'));
    const b = await runtimeOf(await TenantSession.create(t, 'B'));
    const held = await a.create();
    expect(held.status).toBe(201);
    const release = await holdLock(t, 'SELECT 1 FROM workflows WHERE id = $1 FOR UPDATE', [
      held.body.id,
    ]);
    try {
      // A's large change waits on the held row, and keeps A's turn for large bodies meanwhile.
      const first = a.change(held.body.id as string);
      await until(async () => (await lockWaiters(t)) === 1); // its turn taken, the row awaited
      let secondDone = false;
      const second = a.create().then((res) => {
        secondDone = true;
        return res;
      });
      expect((await b.create()).status).toBe(201); // B's does not wait for A's turn
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(secondDone).toBe(false); // A's second does
      await release();
      expect((await first).status).toBe(200);
      expect((await second).status).toBe(201);
    } finally {
      await release(); // once only: a second call does nothing
    }
  });
});
