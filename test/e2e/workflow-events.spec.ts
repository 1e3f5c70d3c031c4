import { ApprovalsService } from '../../src/approvals/approvals.service';
import { DomainError } from '../../src/common/errors';
import { WorkflowSweeper } from '../../src/workflows/workflow-sweeper';
import { WorkflowWorld, workflowCalls, workflowWorld } from '../helpers/workflow-world';

/** An event as stored in the `events` table. */
interface StoredEvent {
  type: string;
  instance_id: string | null;
  customer_id: string | null;
  caused_by: string | null;
  depth: number;
  data: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('workflow events', () => {
  let world: WorkflowWorld;
  let { t, a, customer, instance, runtime, base } = {} as WorkflowWorld;

  beforeAll(async () => {
    world = await workflowWorld();
    ({ t, a, customer, instance, runtime, base } = world);
  });
  afterAll(() => world.t.close());

  const { create, advance } = workflowCalls(() => world);

  /** The workflow's events, oldest first, read from the table past RLS. */
  const eventsOf = async (workflowId: string): Promise<StoredEvent[]> =>
    (
      await t.raw.query<StoredEvent>(
        `SELECT type, instance_id, customer_id, caused_by, depth, data FROM events
          WHERE tenant_id = $1 AND data->'workflow'->>'id' = $2 ORDER BY position`,
        [a.tenantId, workflowId],
      )
    ).rows;
  const types = async (workflowId: string) => (await eventsOf(workflowId)).map((e) => e.type);
  /** The workflow as GET returns it. */
  const got = async (id: string) =>
    (await t.http().get(`${base}/${id}`).set(runtime).expect(200)).body;
  const dashboard = (path: string) => t.http().post(`/v1/workflows/${path}`).set(a.admin);
  /** The tenant's workflow events, of every workflow. */
  const countAll = async () =>
    Number(
      (
        await t.raw.query(
          `SELECT count(*) FROM events WHERE tenant_id = $1 AND type LIKE 'workflow.%'`,
          [a.tenantId],
        )
      ).rows[0].count,
    );

  it('raises workflow.created with the workflow as GET returns it', async () => {
    const w = await create({ stage: 'new', workflow_state: { unit: '4B' } });
    const events = await eventsOf(w.id);
    expect(events).toEqual([
      {
        type: 'workflow.created',
        instance_id: instance,
        customer_id: customer,
        caused_by: null,
        depth: 0,
        data: { workflow: await got(w.id) },
      },
    ]);
    expect(events[0].data.workflow).toEqual(w);
  });

  it('raises workflow.created for a rule action, and none when the event is rolled back', async () => {
    const rule = (body: object) =>
      t
        .http()
        .post('/v1/rules')
        .set(a.admin)
        .send({ name: 'r', trigger_event: 'skill.invoked', cooldown_seconds: 0, ...body })
        .expect(201);
    const fire = (c: string) =>
      t
        .http()
        .post(`/internal/v1/instances/${instance}/events`)
        .set(runtime)
        .send({ event: 'skill.invoked', customer_id: c, payload: { amount: 1 } });
    const c = await a.customer();
    await rule({
      customer_id: c,
      priority: 9,
      actions: [{ type: 'create_workflow', workflow_type: 'lead', stage: 'waiting' }],
    });
    const res = await fire(c).expect(200);
    const id = res.body.workflows[0].id;
    const [created] = await eventsOf(id);
    expect(created).toMatchObject({
      type: 'workflow.created',
      instance_id: instance,
      customer_id: c,
    });
    expect(created.data).toEqual({ workflow: await got(id) });

    // A later action fails: the request rolls back, the workflow and its event with it.
    await rule({
      customer_id: c,
      priority: 1,
      actions: [{ type: 'require_approval', skill_slug: 'payments', action: 'pay_contractor' }],
    });
    const spy = jest
      .spyOn(ApprovalsService.prototype, 'request')
      .mockRejectedValueOnce(new DomainError('conflict', 'Approval could not be requested'));
    const before = await countAll();
    await fire(c).expect(409);
    spy.mockRestore();
    expect(await countAll()).toBe(before);
    const rows = await t.raw.query('SELECT count(*) FROM workflows WHERE customer_id = $1', [c]);
    expect(rows.rows[0].count).toBe('1');
  });

  it('raises stage_changed and status_changed for what an advance changed, stage first', async () => {
    const w = await create({ stage: 's1' });
    await advance(w.id, { assigned_to: 'ops', escalation_level: 2 }).expect(200);
    expect(await types(w.id)).toEqual(['workflow.created']); // neither changed

    const staged = (await advance(w.id, { stage: 's2' }).expect(200)).body;
    const paused = (await advance(w.id, { status: 'paused' }).expect(200)).body;
    await advance(w.id, { status: 'paused', stage: 's2' }).expect(200); // the same again
    const both = (await advance(w.id, { status: 'completed', stage: null }).expect(200)).body;
    const events = await eventsOf(w.id);
    expect(events.slice(1)).toEqual([
      {
        type: 'workflow.stage_changed',
        instance_id: instance,
        customer_id: customer,
        caused_by: null,
        depth: 0,
        data: { workflow: staged, from_stage: 's1', to_stage: 's2' },
      },
      expect.objectContaining({
        type: 'workflow.status_changed',
        data: { workflow: paused, from_status: 'active', to_status: 'paused' },
      }),
      expect.objectContaining({
        type: 'workflow.stage_changed',
        data: { workflow: both, from_stage: 's2', to_stage: null },
      }),
      expect.objectContaining({
        type: 'workflow.status_changed',
        data: { workflow: both, from_status: 'paused', to_status: 'completed' },
      }),
    ]);
    expect(both).toEqual(await got(w.id));
  });

  it('raises status_changed for suspend, resume and abort on both routes', async () => {
    const w = await create();
    await t
      .http()
      .post(`${base}/${w.id}/suspend`)
      .set(runtime)
      .send({ step: 'wait', payload: { n: 1 } })
      .expect(200);
    const suspended = await got(w.id);
    await t.http().post(`${base}/${w.id}/resume`).set(runtime).send({}).expect(200);
    const resumed = await got(w.id);
    await dashboard(`${w.id}/suspend`).send({ step: 'again' }).expect(200);
    await dashboard(`${w.id}/resume`)
      .send({ resume_data: { ok: true } })
      .expect(200);
    const resumedAgain = await got(w.id);
    await dashboard(`${w.id}/abort`).send({}).expect(200);
    const aborted = await got(w.id);

    const changes = (await eventsOf(w.id)).slice(1);
    expect(changes.map((e) => e.type)).toEqual(Array(5).fill('workflow.status_changed'));
    expect(changes.map((e) => [e.data.from_status, e.data.to_status])).toEqual([
      ['active', 'suspended'],
      ['suspended', 'active'],
      ['active', 'suspended'],
      ['suspended', 'active'],
      ['active', 'cancelled'],
    ]);
    expect(changes[0].data.workflow).toEqual(suspended);
    expect(changes[1].data.workflow).toEqual(resumed);
    expect(changes[3].data.workflow).toEqual(resumedAgain);
    expect(changes[4].data.workflow).toEqual(aborted);
    expect(aborted.status).toBe('cancelled');
  });

  it('raises nothing for a refused request', async () => {
    const w = await create({ stage: 's1' });
    const before = await countAll();
    await advance(w.id, { stage: 's2', status: 'suspended' }).expect(409);
    await t.http().post(`${base}/${w.id}/resume`).set(runtime).send({}).expect(409);
    await advance(w.id, { stage: 's2', workflow_state: 'not an object' }).expect(422);
    await t
      .http()
      .post(base)
      .set(runtime)
      .send({ customer_id: a.tenantId, workflow_type: 'lead' }) // no such customer
      .expect(422);
    expect(await countAll()).toBe(before);

    await advance(w.id, { status: 'completed' }).expect(200);
    await advance(w.id, { stage: 's3' }).expect(409);
    await dashboard(`${w.id}/abort`).send({}).expect(409);
    await dashboard(`${w.id}/suspend`).send({ step: 'x' }).expect(409);
    expect(await types(w.id)).toEqual(['workflow.created', 'workflow.status_changed']);
    expect(await countAll()).toBe(before + 1);
  });

  it('raises status_changed when the sweeper expires a workflow', async () => {
    const w = await create({ stage: 'waiting', expires_at: '2000-01-01T00:00:00Z' });
    await t.app.get(WorkflowSweeper).runOnce();
    const expired = await got(w.id);
    expect(expired.status).toBe('expired');
    expect((await eventsOf(w.id)).slice(1)).toEqual([
      {
        type: 'workflow.status_changed',
        instance_id: instance,
        customer_id: customer,
        caused_by: null,
        depth: 0,
        data: { workflow: expired, from_status: 'active', to_status: 'expired' },
      },
    ]);
  });
});
