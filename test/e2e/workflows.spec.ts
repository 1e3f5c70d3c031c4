import { TenantSession } from '../helpers/factories';
import { WorkflowWorld, workflowCalls, workflowWorld } from '../helpers/workflow-world';

describe('workflows', () => {
  let world: WorkflowWorld;
  let { t, a, customer, instance, runtime, base } = {} as WorkflowWorld;

  beforeAll(async () => {
    world = await workflowWorld();
    ({ t, a, customer, instance, runtime, base } = world);
  });
  afterAll(() => world.t.close());

  const { create, advance, stored } = workflowCalls(() => world);

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

    it("refuses another tenant's customer as an unknown one, and writes nothing", async () => {
      const b = await TenantSession.create(t, 'B');
      const theirs = await b.customer();
      const count = async (table: string) =>
        Number((await t.raw.query(`SELECT count(*) FROM ${table}`)).rows[0].count);
      const before = { workflows: await count('workflows'), events: await count('events') };
      const res = await t
        .http()
        .post(base)
        .set(runtime)
        .send({ customer_id: theirs, workflow_type: 'lead', workflow_state: { n: 1 } });
      expect(res.status).toBe(422);
      expect(res.body.detail).toEqual([
        { loc: ['body', 'customer_id'], msg: 'Customer not found', type: 'value_error' },
      ]);
      expect({ workflows: await count('workflows'), events: await count('events') }).toEqual(
        before,
      );
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
