import { PoolClient } from 'pg';
import { TenantDb } from '../../src/database/tenant-db';
import { EventLogService } from '../../src/event-log/event-log.service';
import { WorkflowChangesService } from '../../src/workflows/workflow-changes.service';
import { WorkflowSweeper } from '../../src/workflows/workflow-sweeper';
import { WorkflowsRepository } from '../../src/workflows/workflows.repository';
import { TestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';
import { startAppOnSameDatabase } from '../helpers/same-database-app';
import { workerPlans } from '../helpers/worker-plans';
import { WorkflowWorld, workflowCalls, workflowWorld } from '../helpers/workflow-world';

const at = (fromNowMs: number) => new Date(Date.now() + fromNowMs).toISOString();
const HOUR = 3_600_000;

/** A tenant of its own with an instance whose proxy key creates workflows. */
async function tenant(t: TestApp, name: string) {
  const session = await TenantSession.create(t, name);
  const customer = await session.customer();
  const instance = await session.instance();
  const runtime = (await session.proxyKey(instance)).headers;
  const base = `/internal/v1/instances/${instance}/workflows`;
  return {
    session,
    base,
    runtime,
    create: async (body: object = {}) =>
      (
        await t
          .http()
          .post(base)
          .set(runtime)
          .send({ customer_id: customer, workflow_type: 'lead', ...body })
          .expect(201)
      ).body,
  };
}

/** Runs `work` as hydracore_worker on one owner connection, in a transaction then rolled back. */
async function asWorker<T>(t: TestApp, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await t.owner.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL ROLE hydracore_worker');
    return await work(client);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

describe('workflow timers', () => {
  let world: WorkflowWorld;
  let { t, base, runtime } = {} as WorkflowWorld;
  let sweeper: WorkflowSweeper;

  beforeAll(async () => {
    world = await workflowWorld();
    ({ t, base, runtime } = world);
    sweeper = t.app.get(WorkflowSweeper);
  });
  afterAll(() => world.t.close());

  const { create, advance } = workflowCalls(() => world);
  /** A second instance of the job in this process, as a replica would have. */
  const anotherJob = (app = t.app) =>
    new WorkflowSweeper(
      t.config,
      app.get(TenantDb),
      app.get(WorkflowsRepository),
      app.get(WorkflowChangesService),
    );
  const got = async (id: string) =>
    (await t.http().get(`${base}/${id}`).set(runtime).expect(200)).body;
  /** The workflow's events, oldest first, from the table. */
  const eventsOf = async (id: string) =>
    (
      await t.raw.query<{ type: string; occurred_at: Date; data: Record<string, any> }>( // eslint-disable-line @typescript-eslint/no-explicit-any
        `SELECT type, occurred_at, data FROM events
          WHERE data->'workflow'->>'id' = $1 AND type <> 'workflow.created' ORDER BY position`,
        [id],
      )
    ).rows;
  const dues = async (id: string) => (await eventsOf(id)).filter((e) => e.type === 'workflow.due');

  it('shows hydracore_worker the tenant ids of due and expired workflows, and nothing else', async () => {
    await sweeper.runOnce(); // what other tests left due
    const due = await tenant(t, 'Due');
    const later = await tenant(t, 'Later');
    const expiring = await tenant(t, 'Expiring');
    await due.create({ next_action_at: at(-1000) });
    await due.create({ next_action_at: at(HOUR) });
    await later.create({ next_action_at: at(HOUR), expires_at: at(2 * HOUR) });
    const done = await later.create({ next_action_at: at(-1000) });
    await t
      .http()
      .patch(`${later.base}/${done.id}`)
      .set(later.runtime)
      .send({ action: 'done', status: 'completed' })
      .expect(200);
    await expiring.create({ expires_at: at(-1000) });

    const visible = async () =>
      (await asWorker(t, (c) => c.query('SELECT tenant_id FROM workflows'))).rows
        .map((r) => r.tenant_id)
        .sort();
    expect(await visible()).toEqual([due.session.tenantId, expiring.session.tenantId].sort());
    for (const sql of [
      'SELECT id FROM workflows',
      'SELECT * FROM workflows',
      'SELECT count(*) FROM workflows WHERE next_action_at IS NOT NULL',
      'SELECT tenant_id FROM workflows WHERE status = $1',
      'UPDATE workflows SET due_announced_for = NULL',
      'DELETE FROM workflows',
    ]) {
      const params = sql.includes('$1') ? ['active'] : [];
      await expect(asWorker(t, (c) => c.query(sql, params))).rejects.toThrow(/permission denied/);
    }
    // Once announced and expired, there is nothing left to show.
    await sweeper.runOnce();
    expect(await visible()).toEqual([]);
  });

  it('raises workflow.due once, however many passes run at once on however many replicas', async () => {
    await sweeper.runOnce();
    const many = 620; // more than one batch
    // One made through the API, the rest copies of its row (only their ids and times differ).
    const model = await create({ next_action_at: at(-60_000) });
    const { rows: copies } = await t.raw.query<{ id: string }>(
      `INSERT INTO workflows (tenant_id, id, instance_id, customer_id, workflow_type, status,
          workflow_state, history, next_action_at, last_action_at)
       SELECT tenant_id, gen_random_uuid(), instance_id, customer_id, workflow_type, status,
          workflow_state, history, next_action_at + n * interval '1 millisecond', last_action_at
         FROM workflows, generate_series(1, $2) AS n WHERE id = $1
       RETURNING id`,
      [model.id, many - 1],
    );
    const ids = [model.id, ...copies.map((r) => r.id)];
    const replica = await startAppOnSameDatabase(t);
    try {
      const passes = await Promise.all([
        sweeper.runOnce(),
        anotherJob().runOnce(),
        replica.get(WorkflowSweeper).runOnce(),
        anotherJob(replica).runOnce(),
      ]);
      expect(passes.reduce((a, b) => a + b, 0)).toBe(many);
      expect(await replica.get(WorkflowSweeper).runOnce()).toBe(0);
    } finally {
      await replica.close();
    }
    const { rows } = await t.raw.query<{ id: string; n: string }>(
      `SELECT data->'workflow'->>'id' AS id, count(*) AS n FROM events
        WHERE type = 'workflow.due' AND data->'workflow'->>'id' = ANY($1) GROUP BY 1`,
      [ids],
    );
    expect(rows).toHaveLength(many);
    expect(rows.filter((r) => r.n !== '1')).toEqual([]);
    const { rows: marks } = await t.raw.query(
      `SELECT count(*) FROM workflows
        WHERE id = ANY($1) AND due_announced_for IS NOT DISTINCT FROM next_action_at`,
      [ids],
    );
    expect(marks[0].count).toBe(String(many));
  });

  it('raises it with the workflow as GET returns it, in the order the times came', async () => {
    const later = await create({ next_action_at: at(-1000), stage: 'b' });
    const sooner = await create({ next_action_at: at(-2000), stage: 'a' });
    await sweeper.runOnce();
    const [due] = await dues(later.id);
    expect(due.data).toEqual({ workflow: await got(later.id) });
    const { rows } = await t.raw.query(
      `SELECT data->'workflow'->>'id' AS id FROM events
        WHERE type = 'workflow.due' AND data->'workflow'->>'id' = ANY($1) ORDER BY position`,
      [[later.id, sooner.id]],
    );
    expect(rows.map((r) => r.id)).toEqual([sooner.id, later.id]);
    const event = await t.raw.query(
      `SELECT instance_id, customer_id, caused_by, depth FROM events
        WHERE type = 'workflow.due' AND data->'workflow'->>'id' = $1`,
      [later.id],
    );
    expect(event.rows[0]).toEqual({
      instance_id: world.instance,
      customer_id: world.customer,
      caused_by: null,
      depth: 0,
    });
  });

  it('re-arms for a new next_action_at, not for the same one nor for one still to come', async () => {
    const first = at(-5000);
    const w = await create({ next_action_at: first });
    await sweeper.runOnce();
    expect((await dues(w.id)).map((e) => e.data.workflow.next_action_at)).toEqual([
      new Date(first).toISOString(),
    ]);
    await advance(w.id, { next_action_at: first }).expect(200); // the same time again
    await create({ next_action_at: at(-1000) }); // so that the pass visits this tenant
    await sweeper.runOnce();
    expect(await dues(w.id)).toHaveLength(1);

    const second = at(-4000);
    await advance(w.id, { next_action_at: second }).expect(200);
    await sweeper.runOnce();
    await advance(w.id, { next_action_at: at(HOUR) }).expect(200);
    await sweeper.runOnce();
    expect((await dues(w.id)).map((e) => e.data.workflow.next_action_at)).toEqual([
      new Date(first).toISOString(),
      new Date(second).toISOString(),
    ]);

    // Moved away and back to a time announced before: announced again.
    await advance(w.id, { next_action_at: second }).expect(200);
    await sweeper.runOnce();
    expect(await dues(w.id)).toHaveLength(3);
    await advance(w.id, { next_action_at: null }).expect(200);
    await sweeper.runOnce();
    expect(await dues(w.id)).toHaveLength(3);

    // A time a second away: not before it comes, once when it has.
    const soon = await create({ next_action_at: at(1000) });
    await sweeper.runOnce();
    expect(await dues(soon.id)).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await sweeper.runOnce();
    expect(await dues(soon.id)).toHaveLength(1);
  });

  it('never announces a terminal workflow, nor a time that came after the expiry', async () => {
    const completed = await create({ next_action_at: at(-1000) });
    await advance(completed.id, { status: 'completed' }).expect(200);
    const aborted = await create({ next_action_at: at(-1000) });
    await t.http().post(`/v1/workflows/${aborted.id}/abort`).set(world.a.admin).expect(200);
    const failed = await create({ next_action_at: at(-1000) });
    await advance(failed.id, { status: 'failed' }).expect(200);
    const lapsed = await create({ expires_at: at(-2000), next_action_at: at(-1000) });
    const suspended = await create({ next_action_at: at(-1000) });
    await t
      .http()
      .post(`${base}/${suspended.id}/suspend`)
      .set(runtime)
      .send({ step: 's' })
      .expect(200);
    const both = await create({ next_action_at: at(-2000), expires_at: at(-1000) });

    await sweeper.runOnce();
    for (const w of [completed, aborted, failed]) expect(await eventsOf(w.id)).toHaveLength(1);
    expect((await eventsOf(lapsed.id)).map((e) => e.type)).toEqual(['workflow.status_changed']);
    expect((await got(lapsed.id)).status).toBe('expired');
    expect(await dues(suspended.id)).toHaveLength(1); // open, if suspended
    expect((await eventsOf(both.id)).map((e) => e.type)).toEqual([
      'workflow.due',
      'workflow.status_changed',
    ]);
    await sweeper.runOnce();
    expect((await eventsOf(both.id)).map((e) => e.type)).toHaveLength(2);
  });

  it('expires a workflow past expires_at in one pass, with its event', async () => {
    const w = await create({ stage: 'x', expires_at: at(-1) });
    expect(await sweeper.runOnce()).toBeGreaterThanOrEqual(1);
    const expired = await got(w.id);
    expect(expired).toMatchObject({ status: 'expired', stage: 'x' });
    expect(await eventsOf(w.id)).toEqual([
      expect.objectContaining({
        type: 'workflow.status_changed',
        data: { workflow: expired, from_status: 'active', to_status: 'expired' },
      }),
    ]);
  });

  it('keeps its state in the row: a failed pass redoes nothing twice, a new process misses nothing', async () => {
    const w = await create({ next_action_at: at(-1000) });
    const expiring = await create({ expires_at: at(-1000) });
    const spy = jest
      .spyOn(EventLogService.prototype, 'record')
      .mockRejectedValueOnce(new Error('the process died here'));
    // The tenant's failure is logged and the pass goes on: it handled nothing.
    await expect(sweeper.runOnce()).resolves.toBe(0);
    spy.mockRestore();
    expect(await dues(w.id)).toHaveLength(0);
    expect((await got(expiring.id)).status).toBe('active');

    // A process started afresh: no memory of the failed pass, the rows say what is left.
    const restarted = await startAppOnSameDatabase(t);
    try {
      expect(await restarted.get(WorkflowSweeper).runOnce()).toBe(2);
    } finally {
      await restarted.close();
    }
    expect(await anotherJob().runOnce()).toBe(0);
    expect(await dues(w.id)).toHaveLength(1);
    expect((await eventsOf(expiring.id)).map((e) => e.type)).toEqual(['workflow.status_changed']);
  });

  it('lists open workflows whose next_action_at is at or before due_before', async () => {
    const own = await tenant(t, 'Lists');
    const cut = at(HOUR);
    const past = await own.create({ next_action_at: at(-HOUR) });
    const exactly = await own.create({ next_action_at: cut });
    await own.create({ next_action_at: at(2 * HOUR) });
    await own.create({});
    const completed = await own.create({ next_action_at: at(-HOUR) });
    await t
      .http()
      .patch(`${own.base}/${completed.id}`)
      .set(own.runtime)
      .send({ action: 'done', status: 'completed' })
      .expect(200);
    const suspended = await own.create({ next_action_at: at(-HOUR) });
    await t
      .http()
      .post(`${own.base}/${suspended.id}/suspend`)
      .set(own.runtime)
      .send({ step: 's' })
      .expect(200);

    const listed = (res: { body: { total: number; workflows: { id: string }[] } }) => ({
      total: res.body.total,
      ids: res.body.workflows.map((w) => w.id),
    });
    const expected = { total: 3, ids: [suspended.id, exactly.id, past.id] }; // newest first
    const internal = await t
      .http()
      .get(own.base)
      .set(own.runtime)
      .query({ due_before: cut })
      .expect(200);
    expect(listed(internal)).toEqual(expected);
    const dashboard = await t
      .http()
      .get('/v1/workflows')
      .set(own.session.admin)
      .query({ due_before: cut })
      .expect(200);
    expect(listed(dashboard)).toEqual(expected);
    const one = await t.http().get(`${own.base}/${past.id}`).set(own.runtime).expect(200);
    expect(dashboard.body.workflows[2]).toEqual(one.body);
    const narrowed = await t
      .http()
      .get('/v1/workflows')
      .set(own.session.admin)
      .query({ due_before: cut, status: 'suspended', per_page: 1 })
      .expect(200);
    expect(listed(narrowed)).toEqual({ total: 1, ids: [suspended.id] });
    const earlier = await t
      .http()
      .get(own.base)
      .set(own.runtime)
      .query({ due_before: at(-2 * HOUR) })
      .expect(200);
    expect(listed(earlier)).toEqual({ total: 0, ids: [] });

    for (const bad of ['tomorrow', '', '2030-02-30T00:00:00Z', '2030-01-01 00:00:00Z']) {
      for (const [path, headers] of [
        [own.base, own.runtime],
        ['/v1/workflows', own.session.admin],
      ] as const) {
        const res = await t.http().get(path).set(headers).query({ due_before: bad }).expect(422);
        expect(res.body.detail).toEqual([
          { loc: ['query', 'due_before'], msg: expect.any(String), type: 'datetime_parsing' },
        ]);
      }
    }

    const doc = (await t.http().get('/openapi.json').expect(200)).body;
    for (const path of ['/internal/v1/instances/{instance_id}/workflows', '/v1/workflows']) {
      expect(doc.paths[path].get.parameters).toContainEqual(
        expect.objectContaining({
          name: 'due_before',
          in: 'query',
          required: false,
          schema: expect.objectContaining({ format: 'date-time' }),
        }),
      );
    }
  });

  it('finds the tenants with timers due from the partial indexes, however many workflows wait', async () => {
    const hostile = await TenantSession.create(t, 'Hostile');
    const [customer, instance] = [await hostile.customer(), await hostile.instance()];
    // Open workflows whose time came and was announced, expiring in a week: none is due, yet
    // the planner counts them all as due.
    await t.raw.query(
      `INSERT INTO workflows (tenant_id, instance_id, customer_id, workflow_type,
                              next_action_at, due_announced_for, expires_at)
       SELECT $1, $2, $3, 'lead', now() - interval '1 day', now() - interval '1 day',
              now() + interval '7 days'
         FROM generate_series(1, 100000)`,
      [hostile.tenantId, instance, customer],
    );
    await t.raw.query('ANALYZE workflows');
    try {
      const due = await tenant(t, 'Due');
      await due.create({ next_action_at: at(-1000) });
      const [plan, ...others] = await workerPlans(t, 'workflows', () =>
        t.app.get(WorkflowsRepository).tenantsWithTimersDue(),
      );
      expect(others).toEqual([]);
      expect(plan).not.toContain('Seq Scan');
      expect(plan).not.toContain('Gather');
      expect(plan).toContain('"Index Name":"workflows_due"');
      expect(plan).toContain('"Index Name":"workflows_expiry"');
      const tenants = await t.app.get(WorkflowsRepository).tenantsWithTimersDue();
      expect(tenants).toContain(due.session.tenantId);
      expect(tenants).not.toContain(hostile.tenantId);
    } finally {
      await t.raw.query('DELETE FROM workflows WHERE tenant_id = $1', [hostile.tenantId]);
    }
  });

  it('announces within 5 s of next_action_at and expires within 5 s of expires_at, on its own', async () => {
    await sweeper.runOnce();
    const running = await startAppOnSameDatabase(t, { sweepIntervalMs: 60_000 });
    let closedIn = Infinity;
    try {
      const due = await create({ next_action_at: at(1500) });
      const expiring = await create({ expires_at: at(1500) });
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        if ((await dues(due.id)).length > 0 && (await eventsOf(expiring.id)).length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const [announced] = await dues(due.id);
      const lag = announced.occurred_at.getTime() - new Date(due.next_action_at).getTime();
      expect(lag).toBeGreaterThanOrEqual(0);
      expect(lag).toBeLessThan(5000);
      const [expiry] = await eventsOf(expiring.id);
      const expiryLag = expiry.occurred_at.getTime() - new Date(expiring.expires_at).getTime();
      expect(expiryLag).toBeGreaterThanOrEqual(0);
      expect(expiryLag).toBeLessThan(5000);
    } finally {
      const closing = Date.now();
      await running.close();
      closedIn = Date.now() - closing;
    }
    expect(closedIn).toBeLessThan(5000);
  });
});
