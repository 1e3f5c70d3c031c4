import { TenantDb } from '../../src/database/tenant-db';
import { WorkflowCountCompactor } from '../../src/workflows/workflow-count-compactor';
import { WorkflowSweeper } from '../../src/workflows/workflow-sweeper';
import { WorkflowsRepository } from '../../src/workflows/workflows.repository';
import { TestApp, startTestApp } from '../helpers/app';
import { workflowCounts } from '../helpers/invariants';
import { TenantSession } from '../helpers/factories';

describe('workflows', () => {
  let t: TestApp;
  let a: TenantSession;
  let customer: string;
  let otherCustomer: string;
  let instance: string;
  let runtime: Record<string, string>;
  let base: string;

  beforeAll(async () => {
    t = await startTestApp();
    a = await TenantSession.create(t, 'A');
    customer = await a.customer();
    otherCustomer = await a.customer();
    instance = await a.instance();
    runtime = (await a.proxyKey(instance)).headers;
    base = `/internal/v1/instances/${instance}/workflows`;
  });
  afterAll(() => t.close());

  const create = async (body: object = {}) => {
    const res = await t
      .http()
      .post(base)
      .set(runtime)
      .send({ customer_id: customer, workflow_type: 'rent_arrears', ...body });
    expect(res.status).toBe(201);
    return res.body;
  };
  const advance = (id: string, body: object) =>
    t
      .http()
      .patch(`${base}/${id}`)
      .set(runtime)
      .send({ action: 'noted', ...body });
  const stored = async (id: string) =>
    (await t.raw.query('SELECT * FROM workflows WHERE id = $1', [id])).rows[0];

  describe('create and get', () => {
    it('creates an active workflow with a created history entry', async () => {
      const res = await t
        .http()
        .post(base)
        .set(runtime)
        .send({
          customer_id: customer,
          workflow_type: 'maintenance',
          stage: 'reported',
          title: 'Boiler',
          reference: 'JOB-1',
          assigned_to: 'ops',
          workflow_state: { unit: '4B' },
          expires_at: '2030-01-01T00:00:00Z',
          instance_id: instance,
        })
        .expect(201);
      expect(res.body).toMatchObject({
        tenant_id: a.tenantId,
        instance_id: instance,
        customer_id: customer,
        workflow_type: 'maintenance',
        status: 'active',
        stage: 'reported',
        title: 'Boiler',
        reference: 'JOB-1',
        assigned_to: 'ops',
        approver_id: null,
        escalation_level: 0,
        workflow_state: { unit: '4B' },
        expires_at: '2030-01-01T00:00:00.000Z',
        completed_at: null,
        suspended_step: null,
        last_action_at: expect.any(String),
      });
      expect(res.body.history).toEqual([
        {
          at: expect.stringMatching(/Z$/),
          action: 'created',
          action_detail: null,
          actor: `instance:${instance}`,
          from_status: null,
          to_status: 'active',
          from_stage: null,
          to_stage: 'reported',
        },
      ]);
      const got = await t.http().get(`${base}/${res.body.id}`).set(runtime).expect(200);
      expect(got.body).toEqual(res.body);
    });

    it.each([
      [{ workflow_type: 'party' }, ['body', 'workflow_type'], 'enum'],
      [{ customer_id: undefined }, ['body', 'customer_id'], 'missing'],
      [{ expires_at: 'tomorrow' }, ['body', 'expires_at'], 'datetime_parsing'],
      [{ expires_at: '2030-02-30T00:00:00Z' }, ['body', 'expires_at'], 'datetime_parsing'],
      [{ workflow_state: 'x' }, ['body', 'workflow_state'], 'dict_type'],
      [{ title: 'x'.repeat(201) }, ['body', 'title'], 'string_too_long'],
      [
        { customer_id: '00000000-0000-4000-8000-000000000000' },
        ['body', 'customer_id'],
        'value_error',
      ],
      [
        { instance_id: '00000000-0000-4000-8000-000000000000' },
        ['body', 'instance_id'],
        'value_error',
      ],
    ])('refuses %j with 422 at %j', async (override, loc, type) => {
      const res = await t
        .http()
        .post(base)
        .set(runtime)
        .send({ customer_id: customer, workflow_type: 'lead', ...override });
      expect(res.status).toBe(422);
      expect(res.body.detail).toEqual([{ loc, msg: expect.any(String), type }]);
    });
  });

  describe('advance', () => {
    it('changes stage and status, appends one entry, keeps timestamps', async () => {
      const w = await create({ stage: 'new' });
      const res = await advance(w.id, {
        action: 'contacted_tier2',
        action_detail: { channel: 'sms' },
        stage: 'contacted',
        status: 'awaiting_approval',
        escalation_level: 2,
        approver_id: customer,
        next_action_at: '2030-01-02T09:00:00.000Z',
      }).expect(200);
      expect(res.body).toMatchObject({
        stage: 'contacted',
        status: 'awaiting_approval',
        escalation_level: 2,
        approver_id: customer,
      });
      expect(res.body.history).toHaveLength(2);
      expect(res.body.history[1]).toMatchObject({
        action: 'contacted_tier2',
        action_detail: { channel: 'sms' },
        actor: `instance:${instance}`,
        from_status: 'active',
        to_status: 'awaiting_approval',
        from_stage: 'new',
        to_stage: 'contacted',
      });
      expect(res.body.history[0]).toEqual(w.history[0]);
      expect(new Date(res.body.last_action_at).getTime()).toBeGreaterThanOrEqual(
        new Date(w.last_action_at).getTime(),
      );
      const custom = await advance(w.id, { actor: 'agent:harbour-bot' }).expect(200);
      expect(custom.body.history[2].actor).toBe('agent:harbour-bot');
    });

    it('merges workflow_state as JSON Merge Patch', async () => {
      const w = await create({
        workflow_state: { tenant: { name: 'Ada', phone: '1' }, arrears: 300, notes: ['a'] },
      });
      await advance(w.id, {
        workflow_state: {
          tenant: { phone: null, email: 'a@x' },
          arrears: null,
          notes: ['b'],
          plan: { weeks: 4 },
        },
      }).expect(200);
      expect((await stored(w.id)).workflow_state).toEqual({
        tenant: { name: 'Ada', email: 'a@x' },
        notes: ['b'],
        plan: { weeks: 4 },
      });
    });

    it('sets completed_at on completion, after which nothing moves (409 naming the status)', async () => {
      const w = await create();
      const done = await advance(w.id, { status: 'completed', action: 'paid' }).expect(200);
      expect(done.body.completed_at).toEqual(expect.any(String));
      const history = (await stored(w.id)).history.length;
      const refused = await advance(w.id, { stage: 'again' }).expect(409);
      expect(refused.body.detail).toMatch(/completed/);
      await t.http().post(`${base}/${w.id}/suspend`).set(runtime).send({ step: 's' }).expect(409);
      await t.http().post(`${base}/${w.id}/resume`).set(runtime).send({}).expect(409);
      await t.http().post(`/v1/workflows/${w.id}/abort`).set(a.admin).expect(409);
      expect((await stored(w.id)).history).toHaveLength(history);
    });

    it.each(['expired', 'cancelled', 'failed'])('treats %s as terminal', async (status) => {
      const w = await create();
      await advance(w.id, { status }).expect(200);
      const res = await advance(w.id, { status: 'active' }).expect(409);
      expect(res.body.detail).toContain(status);
    });

    it('refuses to enter suspended by advance, or to advance a suspended workflow', async () => {
      const w = await create();
      await advance(w.id, { status: 'suspended' }).expect(409);
      await t
        .http()
        .post(`${base}/${w.id}/suspend`)
        .set(runtime)
        .send({ step: 'wait' })
        .expect(200);
      const res = await advance(w.id, { status: 'active' }).expect(409);
      expect(res.body.detail).toMatch(/suspended/);
      await advance(w.id, { stage: 'x' }).expect(409);
      expect((await stored(w.id)).status).toBe('suspended');
    });

    it('validates its body', async () => {
      const w = await create();
      expect((await advance(w.id, { action: undefined })).body.detail[0]).toMatchObject({
        loc: ['body', 'action'],
        type: 'missing',
      });
      expect((await advance(w.id, { status: 'done' })).status).toBe(422);
      expect((await advance(w.id, { escalation_level: -1 })).status).toBe(422);
      expect((await advance(w.id, { escalation_level: 1.5 })).status).toBe(422);
      expect((await advance(w.id, { workflow_state: [1] })).status).toBe(422);
      expect((await stored(w.id)).history).toHaveLength(1);
    });
  });

  describe('suspend and resume', () => {
    it('suspends with step and payload, resumes merging resume_data and clearing them', async () => {
      const w = await create({ workflow_state: { a: 1, b: { c: 2 } } });
      const s = await t
        .http()
        .post(`${base}/${w.id}/suspend`)
        .set(runtime)
        .send({ step: 'await_landlord', payload: { ask: 'ok?' } })
        .expect(200);
      expect(s.body).toEqual({
        id: w.id,
        message: expect.stringContaining('await_landlord'),
        status: 'suspended',
      });
      expect(await stored(w.id)).toMatchObject({
        status: 'suspended',
        suspended_step: 'await_landlord',
        suspended_payload: { ask: 'ok?' },
        suspended_at: expect.any(Date),
      });
      await t
        .http()
        .post(`${base}/${w.id}/suspend`)
        .set(runtime)
        .send({ step: 'again' })
        .expect(409);

      const r = await t
        .http()
        .post(`${base}/${w.id}/resume`)
        .set(runtime)
        .send({ resume_data: { b: { d: 3 }, a: null } })
        .expect(200);
      expect(r.body).toEqual({ id: w.id, message: expect.any(String), status: 'active' });
      const row = await stored(w.id);
      expect(row).toMatchObject({
        status: 'active',
        suspended_step: null,
        suspended_payload: null,
        suspended_at: null,
      });
      expect(row.workflow_state).toEqual({ b: { c: 2, d: 3 } });
      expect(row.history.map((e: { action: string }) => e.action)).toEqual([
        'created',
        'suspended',
        'resumed',
      ]);
      expect(row.history[1].action_detail).toEqual({
        step: 'await_landlord',
        payload: { ask: 'ok?' },
      });
      expect(row.history[2].action_detail).toMatchObject({ resumed_from_step: 'await_landlord' });
      await t.http().post(`${base}/${w.id}/resume`).set(runtime).send({}).expect(409);
    });

    it('validates step', async () => {
      const w = await create();
      const res = await t
        .http()
        .post(`${base}/${w.id}/suspend`)
        .set(runtime)
        .send({ step: 'x'.repeat(101) })
        .expect(422);
      expect(res.body.detail[0].loc).toEqual(['body', 'step']);
      await t.http().post(`${base}/${w.id}/suspend`).set(runtime).send({}).expect(422);
    });
  });

  describe('concurrency', () => {
    it('serialises 20 simultaneous advances: all succeed, 20 entries, none lost', async () => {
      const w = await create();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          advance(w.id, { action: `step_${i}`, workflow_state: { [`k${i}`]: i } }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
      const row = await stored(w.id);
      expect(row.history).toHaveLength(21);
      expect(Object.keys(row.workflow_state)).toHaveLength(20);
      expect(new Set(row.history.map((e: { action: string }) => e.action)).size).toBe(21);
    });

    it('never half-changes a workflow when suspend races resume', async () => {
      for (let round = 0; round < 5; round++) {
        const w = await create();
        const ops = await Promise.all([
          t.http().post(`${base}/${w.id}/suspend`).set(runtime).send({ step: 's' }),
          t.http().post(`${base}/${w.id}/resume`).set(runtime).send({}),
          t.http().post(`${base}/${w.id}/suspend`).set(runtime).send({ step: 's2' }),
        ]);
        const ok = ops.filter((r) => r.status === 200).length;
        expect(ops.every((r) => r.status === 200 || r.status === 409)).toBe(true);
        const row = await stored(w.id);
        expect(row.history).toHaveLength(1 + ok);
        expect(row.status === 'suspended').toBe(
          row.suspended_at !== null && row.suspended_step !== null,
        );
      }
    });
  });

  describe('lists', () => {
    let listed: TenantSession;
    let inst: string;
    let key: Record<string, string>;
    let c1: string;
    let c2: string;

    beforeAll(async () => {
      listed = await TenantSession.create(t, 'Lists');
      c1 = await listed.customer();
      c2 = await listed.customer();
      inst = await listed.instance();
      key = (await listed.proxyKey(inst)).headers;
      for (let i = 0; i < 25; i++) {
        await t
          .http()
          .post(`/internal/v1/instances/${inst}/workflows`)
          .set(key)
          .send({
            customer_id: i % 5 === 0 ? c2 : c1,
            workflow_type: i % 2 ? 'lead' : 'viewing',
            reference: `REF-${i % 3}`,
          })
          .expect(201);
      }
    });

    const page = (query: string) =>
      t.http().get(`/internal/v1/instances/${inst}/workflows?${query}`).set(key);

    it('pages newest first with a total, stable across pages', async () => {
      const first = await page('per_page=10').expect(200);
      expect(first.body).toMatchObject({ page: 1, per_page: 10, total: 25 });
      expect(first.body.workflows).toHaveLength(10);
      const all = [];
      for (let p = 1; p <= 3; p++)
        all.push(...(await page(`per_page=10&page=${p}`).expect(200)).body.workflows);
      expect(all).toHaveLength(25);
      expect(new Set(all.map((w: { id: string }) => w.id)).size).toBe(25);
      const times = all.map((w: { created_at: string }) => w.created_at);
      expect([...times].sort().reverse()).toEqual(times);
      expect((await page('').expect(200)).body).toMatchObject({ page: 1, per_page: 20 });
      expect((await page('page=9').expect(200)).body).toMatchObject({ total: 25, workflows: [] });
    });

    it('combines filters with AND', async () => {
      const res = await page(`customer_id=${c2}&workflow_type=viewing`).expect(200);
      expect(res.body.total).toBe(3);
      expect(
        res.body.workflows.every(
          (w: { customer_id: string; workflow_type: string }) =>
            w.customer_id === c2 && w.workflow_type === 'viewing',
        ),
      ).toBe(true);
      expect((await page('reference=REF-1&workflow_type=lead').expect(200)).body.total).toBe(4);
      expect((await page('status=completed').expect(200)).body.total).toBe(0);
    });

    it.each([
      'per_page=0',
      'per_page=101',
      'page=0',
      'page=x',
      'status=done',
      'workflow_type=x',
      'customer_id=1',
    ])('refuses %s with 422 at its query loc', async (query) => {
      const res = await page(query).expect(422);
      expect(res.body.detail[0].loc).toEqual(['query', query.split('=')[0]]);
    });

    it('gives the dashboard the whole tenant, confining customer admins', async () => {
      const all = await t.http().get('/v1/workflows?per_page=100').set(listed.admin).expect(200);
      expect(all.body.total).toBe(25);
      const confined = await t
        .http()
        .get('/v1/workflows')
        .set(listed.customerAdmin(c2))
        .expect(200);
      expect(confined.body.total).toBe(5);
      await t
        .http()
        .get(`/v1/workflows?customer_id=${c1}`)
        .set(listed.customerAdmin(c2))
        .expect(403);
      await t.http().get('/v1/workflows').set(listed.member(c2)).expect(403);
      const one = all.body.workflows.find((w: { customer_id: string }) => w.customer_id === c1);
      await t.http().get(`/v1/workflows/${one.id}`).set(listed.customerAdmin(c2)).expect(403);
      await t
        .http()
        .post(`/v1/workflows/${one.id}/abort`)
        .set(listed.customerAdmin(c2))
        .expect(403);
      expect(
        (await t.http().get(`/v1/workflows/${one.id}`).set(listed.admin).expect(200)).body.id,
      ).toBe(one.id);
    });
  });

  it('keeps list totals equal to the rows, through creates, status changes and expiry', async () => {
    const w = await create({ expires_at: '2000-01-01T00:00:00Z' });
    await advance((await create()).id, { status: 'completed' }).expect(200);
    await t
      .http()
      .post(`${base}/${(await create()).id}/suspend`)
      .set(runtime)
      .send({ step: 's' })
      .expect(200);
    await t.app.get(WorkflowSweeper).runOnce();
    expect((await stored(w.id)).status).toBe('expired');
    expect(await countMismatches()).toEqual([]);
    await expectTotalsMatchRows();

    // Folding the counter rows, with writes racing it, keeps every total exact.
    await Promise.all([
      t.app.get(WorkflowCountCompactor).runOnce(),
      ...Array.from({ length: 10 }, () => create()),
    ]);
    await t.app.get(WorkflowCountCompactor).runOnce();
    const perKey = await t.raw.query(
      `SELECT count(*) AS n FROM workflow_counts GROUP BY tenant_id, instance_id, customer_id, workflow_type, status`,
    );
    expect(perKey.rows.every((r: { n: string }) => r.n === '1')).toBe(true);
    expect(await countMismatches()).toEqual([]);
    await expectTotalsMatchRows();
  });

  const countMismatches = () => workflowCounts(t.raw, {});

  async function expectTotalsMatchRows(): Promise<void> {
    for (const status of ['active', 'completed', 'suspended', 'expired']) {
      const listed = await t.http().get(`/v1/workflows?status=${status}`).set(a.admin).expect(200);
      const rows = await t.raw.query(
        'SELECT count(*) FROM workflows WHERE tenant_id = $1 AND status = $2',
        [a.tenantId, status],
      );
      expect([status, listed.body.total]).toEqual([status, Number(rows.rows[0].count)]);
    }
  }

  describe('dashboard actions', () => {
    it('lists suspended workflows (not captured as an id), and suspends, resumes, aborts', async () => {
      const w = await create();
      await t
        .http()
        .post(`/v1/workflows/${w.id}/suspend`)
        .set(a.admin)
        .send({ step: 'review', payload: [1, 2] })
        .expect(200);
      const suspended = await t.http().get('/v1/workflows/suspended').set(a.admin).expect(200);
      expect(Array.isArray(suspended.body)).toBe(true);
      expect(suspended.body.map((x: { id: string }) => x.id)).toContain(w.id);
      expect(suspended.body.find((x: { id: string }) => x.id === w.id).suspended_payload).toEqual([
        1, 2,
      ]);
      const c = await t
        .http()
        .get('/v1/workflows/suspended')
        .set(a.customerAdmin(otherCustomer))
        .expect(200);
      expect(c.body).toEqual([]);
      await t
        .http()
        .post(`/v1/workflows/${w.id}/resume`)
        .set(a.admin)
        .send({ resume_data: { ok: true } })
        .expect(200);
      const aborted = await t.http().post(`/v1/workflows/${w.id}/abort`).set(a.admin).expect(200);
      expect(aborted.body).toEqual({ id: w.id, message: expect.any(String), status: 'cancelled' });
      const row = await stored(w.id);
      expect(row.history.map((e: { action: string; actor: string }) => e.action)).toEqual([
        'created',
        'suspended',
        'resumed',
        'aborted',
      ]);
      expect(row.history[3].actor).toMatch(/^user:/);
      await t.http().get('/v1/workflows/not-a-uuid').set(a.admin).expect(422);
      await t
        .http()
        .get('/v1/workflows/00000000-0000-4000-8000-000000000000')
        .set(a.admin)
        .expect(404);
    });

    it('aborts a suspended workflow, clearing the suspension', async () => {
      const w = await create();
      await t.http().post(`${base}/${w.id}/suspend`).set(runtime).send({ step: 's' }).expect(200);
      await t.http().post(`/v1/workflows/${w.id}/abort`).set(a.admin).expect(200);
      expect(await stored(w.id)).toMatchObject({
        status: 'cancelled',
        suspended_at: null,
        suspended_step: null,
      });
    });
  });

  describe('expiry sweeper', () => {
    it('expires open workflows past expires_at with a system entry, once, even with two sweepers racing', async () => {
      const session = await TenantSession.create(t, 'Sweep');
      const cust = await session.customer();
      const inst = await session.instance();
      const key = (await session.proxyKey(inst)).headers;
      const make = async (body: object) =>
        (
          await t
            .http()
            .post(`/internal/v1/instances/${inst}/workflows`)
            .set(key)
            .send({ customer_id: cust, workflow_type: 'lead', ...body })
            .expect(201)
        ).body.id as string;
      const past = '2000-01-01T00:00:00Z';
      const due = await Promise.all([
        make({ expires_at: past }),
        make({ expires_at: past, stage: 's1' }),
        make({ expires_at: past }),
      ]);
      await t
        .http()
        .post(`/internal/v1/instances/${inst}/workflows/${due[2]}/suspend`)
        .set(key)
        .send({ step: 'x' })
        .expect(200);
      const future = await make({ expires_at: '2100-01-01T00:00:00Z' });
      const finished = await make({ expires_at: past });
      await t
        .http()
        .patch(`/internal/v1/instances/${inst}/workflows/${finished}`)
        .set(key)
        .send({ action: 'done', status: 'completed' })
        .expect(200);

      const sweeper = t.app.get(WorkflowSweeper);
      // A second replica's sweeper: same database, its own pass.
      const replica = new WorkflowSweeper(
        t.config,
        t.app.get(TenantDb),
        t.app.get(WorkflowsRepository),
      );
      const [one, two] = await Promise.all([sweeper.runOnce(), replica.runOnce()]);
      expect(one + two).toBeGreaterThanOrEqual(3);

      for (const id of due) {
        const row = await stored(id);
        expect(row).toMatchObject({ status: 'expired', suspended_at: null });
        const expiries = row.history.filter((e: { action: string }) => e.action === 'expired');
        expect(expiries).toEqual([
          expect.objectContaining({ actor: 'system', to_status: 'expired' }),
        ]);
      }
      expect((await stored(due[1])).history.at(-1)).toMatchObject({
        from_status: 'active',
        from_stage: 's1',
        to_stage: 's1',
      });
      expect((await stored(future)).status).toBe('active');
      expect((await stored(finished)).status).toBe('completed');
      expect(await sweeper.runOnce()).toBe(0);
    });
  });

  describe('isolation', () => {
    it('keeps another instance of the tenant, and another tenant, out (404), changing nothing', async () => {
      const w = await create();
      const sibling = await a.instance();
      const siblingKey = (await a.proxyKey(sibling)).headers;
      const siblingBase = `/internal/v1/instances/${sibling}/workflows`;
      await t.http().get(`${siblingBase}/${w.id}`).set(siblingKey).expect(404);
      await t
        .http()
        .patch(`${siblingBase}/${w.id}`)
        .set(siblingKey)
        .send({ action: 'x', status: 'failed' })
        .expect(404);
      await t
        .http()
        .post(`${siblingBase}/${w.id}/suspend`)
        .set(siblingKey)
        .send({ step: 's' })
        .expect(404);
      expect(
        (await t.http().get(siblingBase).set(siblingKey).expect(200)).body.workflows.map(
          (x: { id: string }) => x.id,
        ),
      ).not.toContain(w.id);

      const other = await TenantSession.create(t, 'Other');
      const otherInstance = await other.instance();
      const otherKey = (await other.proxyKey(otherInstance)).headers;
      await t
        .http()
        .get(`/internal/v1/instances/${otherInstance}/workflows/${w.id}`)
        .set(otherKey)
        .expect(404);
      await t
        .http()
        .post(`/internal/v1/instances/${otherInstance}/workflows/${w.id}/resume`)
        .set(otherKey)
        .send({})
        .expect(404);
      const apiKey = await other.apiKey('admin');
      for (const headers of [other.admin, apiKey.headers]) {
        await t.http().get(`/v1/workflows/${w.id}`).set(headers).expect(404);
        await t.http().post(`/v1/workflows/${w.id}/abort`).set(headers).expect(404);
        await t
          .http()
          .post(`/v1/workflows/${w.id}/suspend`)
          .set(headers)
          .send({ step: 's' })
          .expect(404);
        expect((await t.http().get('/v1/workflows').set(headers).expect(200)).body.total).toBe(0);
        expect(
          (await t.http().get('/v1/workflows/suspended').set(headers).expect(200)).body,
        ).toEqual([]);
      }
      expect(await stored(w.id)).toMatchObject({ status: 'active' });
      expect((await stored(w.id)).history).toHaveLength(1);
    });
  });

  it('documents the twelve routes under "Workflows" with the seeds’ summaries', async () => {
    const doc = (await t.http().get('/openapi.json').expect(200)).body;
    const summaries = Object.values(
      doc.paths as Record<string, Record<string, { summary: string; tags: string[] }>>,
    )
      .flatMap((item) => Object.values(item))
      .filter((op) => op.tags.includes('Workflows'))
      .map((op) => op.summary)
      .sort();
    expect(summaries).toEqual(
      [
        'Query Workflows Internal',
        'Create Workflow',
        'Get Workflow Internal',
        'Advance Workflow',
        'Resume Workflow Internal',
        'Suspend Workflow Internal',
        'List Workflows Dashboard',
        'List Suspended Workflows',
        'Get Workflow Dashboard',
        'Abort Workflow',
        'Resume Workflow',
        'Suspend Workflow',
      ].sort(),
    );
    const query = doc.paths['/v1/workflows'].get.parameters.find(
      (p: { name: string }) => p.name === 'per_page',
    );
    expect(query.schema).toMatchObject({ minimum: 1, maximum: 100, default: 20 });
  });
});
