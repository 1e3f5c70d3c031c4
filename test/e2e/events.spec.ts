import { DomainError } from '../../src/common/errors';
import { WorkflowsService } from '../../src/workflows/workflows.service';
import { TestApp, startReplica, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

describe('events', () => {
  let t: TestApp;
  let a: TenantSession;
  let instance: string;
  let runtime: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp();
    a = await TenantSession.create(t, 'A');
    instance = await a.instance();
    runtime = (await a.proxyKey(instance)).headers;
  });
  afterAll(() => t.close());

  const rule = async (body: object) =>
    (
      await t
        .http()
        .post('/v1/rules')
        .set(a.admin)
        .send({ name: 'r', trigger_event: 'skill.invoked', cooldown_seconds: 0, ...body })
        .expect(201)
    ).body;
  const fire = (
    customer: string,
    payload: object,
    extra: object = {},
    headers = runtime,
    inst = instance,
  ) =>
    t
      .http()
      .post(`/internal/v1/instances/${inst}/events`)
      .set(headers)
      .send({ event: 'skill.invoked', customer_id: customer, payload, ...extra });
  const stored = async (id: string) =>
    (await t.raw.query('SELECT trigger_count, last_triggered_at FROM rules WHERE id = $1', [id]))
      .rows[0];
  const ids = (list: { rule_id: string }[]) => list.map((x) => x.rule_id);

  it('runs each action type and answers with what it did', async () => {
    const c = await a.customer();
    const approval = await rule({
      customer_id: c,
      priority: 30,
      conditions: [{ field: 'amount', operator: 'gt', value: 500 }],
      actions: [
        {
          type: 'require_approval',
          skill_slug: 'payments',
          action: 'pay_contractor',
          approver_role: 'owner',
          expires_in_hours: 2,
        },
      ],
    });
    const workflow = await rule({
      customer_id: c,
      priority: 20,
      actions: [
        { type: 'create_workflow', workflow_type: 'approval', stage: 'waiting', title: 'Payment' },
      ],
    });
    const notify = await rule({
      customer_id: c,
      priority: 10,
      actions: [{ type: 'notify', to: 'ops@harbour.example', message: 'Big payment' }],
    });
    const payload = {
      skill_slug: 'payments',
      action: 'pay_contractor',
      amount: 750,
      currency: 'GBP',
      note: 'unknown fields are fine',
    };
    const res = await fire(c, payload).expect(200);
    expect(res.body).toMatchObject({
      event: 'skill.invoked',
      decision: 'require_approval',
      suppressed: [],
      skipped: [],
    });
    expect(ids(res.body.fired)).toEqual([approval.id, workflow.id, notify.id]);
    expect(res.body.fired[0]).toMatchObject({
      rule_name: 'r',
      actions: approval.actions,
      results: [{ type: 'require_approval', approval_id: res.body.approvals[0].id }],
    });
    expect(res.body.approvals[0]).toMatchObject({
      status: 'pending',
      serialized_intent: payload,
      skill_slug: 'payments',
      action: 'pay_contractor',
      approver_role: 'owner',
      rule_id: approval.id,
      customer_id: c,
    });
    expect(res.body.workflows[0]).toMatchObject({
      workflow_type: 'approval',
      stage: 'waiting',
      title: 'Payment',
      instance_id: instance,
      customer_id: c,
    });
    const outboxId = res.body.fired[2].results[0].outbox_id;
    const message = (
      await t.raw.query('SELECT kind, payload FROM outbox WHERE id = $1', [outboxId])
    ).rows[0];
    expect(message).toMatchObject({
      kind: 'notify',
      payload: { to: 'ops@harbour.example', message: 'Big payment', rule_id: notify.id },
    });
    for (const r of [approval, workflow, notify])
      expect(await stored(r.id)).toMatchObject({
        trigger_count: 1,
        last_triggered_at: expect.any(Date),
      });
  });

  it('decides block over require_approval over allow', async () => {
    const c = await a.customer();
    expect((await fire(c, {}).expect(200)).body).toMatchObject({ decision: 'allow', fired: [] });
    await rule({
      customer_id: c,
      actions: [{ type: 'require_approval', skill_slug: 'payments', action: 'refund_deposit' }],
    });
    expect((await fire(c, {}).expect(200)).body.decision).toBe('require_approval');
    await rule({
      customer_id: c,
      priority: 0,
      actions: [{ type: 'block', reason: 'Account frozen' }],
    });
    const blocked = (await fire(c, {}).expect(200)).body;
    expect(blocked.decision).toBe('block');
    expect(blocked.fired.flatMap((f: { results: unknown[] }) => f.results)).toContainEqual({
      type: 'block',
      reason: 'Account frozen',
    });
  });

  it('lets a customer rule with a rule_key override the tenant default, in priority order', async () => {
    const c = await a.customer();
    const other = await a.customer();
    const block = [{ type: 'block', reason: 'default' }];
    const tenantDefault = await rule({
      rule_key: 'limit',
      priority: 50,
      actions: block,
      conditions: [{ field: 'currency', operator: 'eq', value: 'EUR' }],
    });
    const override = await rule({
      rule_key: 'limit',
      customer_id: c,
      priority: 1,
      actions: [{ type: 'notify', to: 'x', message: 'y' }],
      conditions: [{ field: 'currency', operator: 'eq', value: 'EUR' }],
    });
    const mine = (await fire(c, { currency: 'EUR' }).expect(200)).body;
    expect(ids(mine.fired)).toEqual([override.id]);
    expect(mine.suppressed).toContainEqual({ rule_id: tenantDefault.id, reason: 'overridden' });
    expect(mine.decision).toBe('allow');
    const theirs = (await fire(other, { currency: 'EUR' }).expect(200)).body;
    expect(ids(theirs.fired)).toEqual([tenantDefault.id]);
    expect(ids([...theirs.fired, ...theirs.suppressed, ...theirs.skipped])).not.toContain(
      override.id,
    );
  });

  it('lists rules whose conditions fail as skipped, and never rules of other customers or instances', async () => {
    const c = await a.customer();
    const other = await a.customer();
    const otherInstance = await a.instance();
    const miss = await rule({
      customer_id: c,
      conditions: [{ field: 'amount', operator: 'gt', value: 10 }],
      actions: [{ type: 'block', reason: 'x' }],
    });
    const foreign = await rule({
      customer_id: other,
      actions: [{ type: 'block', reason: 'not yours' }],
    });
    const elsewhere = await rule({
      instance_id: otherInstance,
      customer_id: c,
      actions: [{ type: 'block', reason: 'other instance' }],
    });
    const res = (await fire(c, { amount: 5 }).expect(200)).body;
    expect(res.skipped).toContainEqual({ rule_id: miss.id, reason: 'conditions_not_met' });
    const seen = ids([...res.fired, ...res.suppressed, ...res.skipped]);
    expect(seen).not.toContain(foreign.id);
    expect(seen).not.toContain(elsewhere.id);
    expect(res.decision).toBe('allow');
    expect((await stored(foreign.id)).trigger_count).toBe(0);
  });

  it('fires a rule once from 100 concurrent events within its cooldown', async () => {
    const c = await a.customer();
    const r = await rule({
      customer_id: c,
      cooldown_seconds: 3600,
      actions: [{ type: 'notify', to: 'ops', message: 'once' }],
    });
    const results = await Promise.all(Array.from({ length: 100 }, () => fire(c, { amount: 1 })));
    expect(results.every((x) => x.status === 200)).toBe(true);
    const fired = results.filter((x) => ids(x.body.fired).includes(r.id));
    expect(fired).toHaveLength(1);
    const held = results
      .flatMap((x) => x.body.suppressed)
      .filter((s: { rule_id: string }) => s.rule_id === r.id);
    expect(held).toHaveLength(99);
    expect(held.every((s: { reason: string }) => s.reason === 'cooldown')).toBe(true);
    expect((await stored(r.id)).trigger_count).toBe(1);
    // per customer: another customer is not cooled down by this one
    await rule({
      customer_id: null,
      cooldown_seconds: 3600,
      actions: [{ type: 'notify', to: 'ops', message: 'tenant-wide' }],
    });
    const d = await a.customer();
    const e = await a.customer();
    expect((await fire(d, {}).expect(200)).body.fired).toHaveLength(1);
    expect((await fire(e, {}).expect(200)).body.fired).toHaveLength(1);
    expect((await fire(d, {}).expect(200)).body.suppressed).toHaveLength(1);
  });

  it('keeps trigger_count exact under concurrency without a cooldown', async () => {
    const c = await a.customer();
    const r = await rule({
      customer_id: c,
      cooldown_seconds: 0,
      actions: [{ type: 'notify', to: 'ops', message: 'each' }],
    });
    await Promise.all(Array.from({ length: 30 }, () => fire(c, {}).expect(200)));
    expect((await stored(r.id)).trigger_count).toBe(30);
  });

  it('answers the same idempotency_key with the first answer and fires nothing again', async () => {
    const c = await a.customer();
    const r = await rule({
      customer_id: c,
      actions: [{ type: 'create_workflow', workflow_type: 'lead' }],
    });
    const first = await fire(c, { amount: 1 }, { idempotency_key: 'evt-1' }).expect(200);
    const again = await fire(c, { amount: 1 }, { idempotency_key: 'evt-1' }).expect(200);
    expect(again.text).toBe(first.text); // byte for byte, keys in the order first sent
    expect((await stored(r.id)).trigger_count).toBe(1);
    expect(
      (await t.raw.query('SELECT count(*) FROM workflows WHERE customer_id = $1', [c])).rows[0]
        .count,
    ).toBe('1');
    await fire(c, { amount: 2 }, { idempotency_key: 'evt-1' }).expect(409);
    const burst = await Promise.all(
      Array.from({ length: 10 }, () => fire(c, { amount: 3 }, { idempotency_key: 'evt-2' })),
    );
    expect(burst.every((x) => x.status === 200)).toBe(true);
    expect((await stored(r.id)).trigger_count).toBe(2);
  });

  it('keeps nothing of an event whose action fails', async () => {
    const c = await a.customer();
    const counted = await rule({
      customer_id: c,
      priority: 9,
      cooldown_seconds: 3600,
      actions: [{ type: 'require_approval', skill_slug: 'payments', action: 'pay_contractor' }],
    });
    await rule({
      customer_id: c,
      priority: 1,
      actions: [{ type: 'create_workflow', workflow_type: 'lead' }],
    });
    const spy = jest
      .spyOn(WorkflowsService.prototype, 'create')
      .mockRejectedValueOnce(new DomainError('conflict', 'Workflow could not be created'));
    const res = await fire(c, { amount: 1 }, { idempotency_key: 'doomed' });
    spy.mockRestore();
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ detail: 'Workflow could not be created' });
    expect(await stored(counted.id)).toEqual({ trigger_count: 0, last_triggered_at: null });
    expect(
      (await t.raw.query('SELECT count(*) FROM approvals WHERE customer_id = $1', [c])).rows[0]
        .count,
    ).toBe('0');
    expect(
      (await t.raw.query('SELECT count(*) FROM rule_cooldowns WHERE customer_id = $1', [c])).rows[0]
        .count,
    ).toBe('0');
    expect(
      (await t.raw.query(`SELECT count(*) FROM event_receipts WHERE idempotency_key = 'doomed'`))
        .rows[0].count,
    ).toBe('0');
    // and the same event now goes through: the cooldown was never taken
    expect(ids((await fire(c, { amount: 1 }).expect(200)).body.fired)).toContain(counted.id);
  });

  it('puts rule writes in force on the next event, on every replica, and firing does not invalidate', async () => {
    const z = await TenantSession.create(t, 'Replicas'); // a tenant of its own: no rules but these
    const c = await z.customer();
    const zInstance = await z.instance();
    const zRuntime = (await z.proxyKey(zInstance)).headers;
    const zRule = async (body: object) =>
      (
        await t
          .http()
          .post('/v1/rules')
          .set(z.admin)
          .send({ name: 'r', trigger_event: 'skill.invoked', cooldown_seconds: 0, ...body })
          .expect(201)
      ).body;
    const replica = await startReplica(t);
    try {
      const viaReplica = (payload: object) =>
        replica
          .http()
          .post(`/internal/v1/instances/${zInstance}/events`)
          .set(zRuntime)
          .send({ event: 'skill.invoked', customer_id: c, payload })
          .expect(200);
      expect((await viaReplica({ amount: 900 })).body.fired).toEqual([]); // the replica caches the empty set

      const r = await zRule({
        customer_id: c,
        conditions: [{ field: 'amount', operator: 'gt', value: 500 }],
        actions: [{ type: 'block', reason: 'big' }],
      });
      expect(ids((await viaReplica({ amount: 900 })).body.fired)).toEqual([r.id]); // created

      const version = async () =>
        (await t.raw.query('SELECT version FROM rule_versions WHERE tenant_id = $1', [z.tenantId]))
          .rows[0].version;
      const before = await version();
      await viaReplica({ amount: 900 });
      expect(await version()).toBe(before); // firing leaves the cache valid

      await t
        .http()
        .patch(`/v1/rules/${r.id}`)
        .set(z.admin)
        .send({ conditions: [{ field: 'amount', operator: 'gt', value: 1000 }] })
        .expect(200);
      expect((await viaReplica({ amount: 900 })).body.skipped).toContainEqual({
        rule_id: r.id,
        reason: 'conditions_not_met',
      }); // updated

      await t.http().patch(`/v1/rules/${r.id}`).set(z.admin).send({ is_active: false }).expect(200);
      expect(ids((await viaReplica({ amount: 5000 })).body.skipped)).not.toContain(r.id); // deactivated
      expect((await viaReplica({ amount: 5000 })).body.fired).toEqual([]);

      await t.http().patch(`/v1/rules/${r.id}`).set(z.admin).send({ is_active: true }).expect(200);
      expect(ids((await viaReplica({ amount: 5000 })).body.fired)).toEqual([r.id]);
      await t.http().delete(`/v1/rules/${r.id}`).set(z.admin).expect(204);
      expect((await viaReplica({ amount: 5000 })).body.fired).toEqual([]); // deleted
    } finally {
      await replica.close();
    }
  });

  it('validates the event and its payload (422) and writes nothing', async () => {
    const c = await a.customer();
    const bad = async (body: object, loc: (string | number)[]) => {
      const res = await t
        .http()
        .post(`/internal/v1/instances/${instance}/events`)
        .set(runtime)
        .send({ event: 'skill.invoked', customer_id: c, payload: {}, ...body });
      expect(res.status).toBe(422);
      expect(res.body.detail[0].loc).toEqual(loc);
    };
    await bad({ event: 'lottery.won' }, ['body', 'event']);
    await bad({ payload: { amount: 'lots' } }, ['body', 'payload', 'amount']);
    await bad({ payload: { currency: 'XRP' } }, ['body', 'payload', 'currency']);
    await bad({ event: 'viewing.booked', payload: { viewing_at: 'soon' } }, [
      'body',
      'payload',
      'viewing_at',
    ]);
    await bad({ payload: [] }, ['body', 'payload']);
    await bad({ customer_id: '00000000-0000-4000-8000-000000000000' }, ['body', 'customer_id']);
    await bad({ customer_id: undefined }, ['body', 'customer_id']);
    // The statement that checks the customer also records the event: another tenant's customer
    // is refused and recorded nothing, and the key claimed before it is free again.
    const theirs = await (await TenantSession.create(t, 'Elsewhere')).customer();
    await bad({ customer_id: theirs, idempotency_key: 'evt-unknown' }, ['body', 'customer_id']);
    const written = await t.raw.query<{ events: number; receipts: number }>(
      `SELECT (SELECT count(*) FROM events WHERE tenant_id = $1 AND customer_id = ANY($2))::int
                AS events,
              (SELECT count(*) FROM event_receipts
                WHERE tenant_id = $1 AND idempotency_key = 'evt-unknown')::int AS receipts`,
      [a.tenantId, [c, theirs, '00000000-0000-4000-8000-000000000000']],
    );
    expect(written.rows[0]).toEqual({ events: 0, receipts: 0 });
    await fire(c, {}, { idempotency_key: 'evt-unknown' }).expect(200);
  });

  it('never fires another tenant’s rules, nor lets another tenant fire these', async () => {
    const c = await a.customer();
    const mine = await rule({ customer_id: c, actions: [{ type: 'block', reason: 'A only' }] });
    const other = await TenantSession.create(t, 'B');
    const otherCustomer = await other.customer();
    const otherInstance = await other.instance();
    const otherKey = (await other.proxyKey(otherInstance)).headers;
    const res = await fire(otherCustomer, {}, {}, otherKey, otherInstance).expect(200);
    expect(res.body).toMatchObject({ decision: 'allow', fired: [], suppressed: [], skipped: [] });
    await fire(c, {}, {}, otherKey, otherInstance).expect(422); // A's customer does not exist for B
    await fire(c, {}, {}, otherKey).expect(403); // B's key on A's instance path
    expect((await stored(mine.id)).trigger_count).toBe(0);
  });
});
