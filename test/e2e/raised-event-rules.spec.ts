import { randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { PoolClient } from 'pg';
import { EventSequencer } from '../../src/event-log/event-sequencer';
import { EventEvaluator } from '../../src/events/event-evaluator';
import { RuleActions } from '../../src/events/rule-actions';
import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';
import { lockWaiters } from '../helpers/locks';
import { startAppOnSameDatabase } from '../helpers/same-database-app';

/** An event as stored, read past RLS. */
interface Stored {
  id: string;
  type: string;
  instance_id: string | null;
  customer_id: string | null;
  caused_by: string | null;
  depth: number;
  occurred_at: Date;
  data: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

interface World {
  a: TenantSession;
  customer: string;
  instance: string;
  runtime: Record<string, string>;
  base: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Rules on the events HydraCore raises itself (workflow and approval changes): evaluated once
 * each, soon after their commit, by whichever replica takes the tenant's cursor. Each test has a
 * tenant of its own.
 */
describe('rules on raised events', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const world = async (): Promise<World> => {
    const a = await TenantSession.create(t, 'Raised');
    const customer = await a.customer();
    const instance = await a.instance();
    const runtime = (await a.proxyKey(instance)).headers;
    return { a, customer, instance, runtime, base: `/internal/v1/instances/${instance}/workflows` };
  };
  const rule = async (w: World, body: object): Promise<{ id: string }> =>
    (
      await t
        .http()
        .post('/v1/rules')
        .set(w.a.admin)
        .send({ name: 'r', cooldown_seconds: 0, ...body })
        .expect(201)
    ).body;
  const notify = (to: string) => [{ type: 'notify', to, message: 'm' }];
  const create = async (w: World, body: object = {}) =>
    (
      await t
        .http()
        .post(w.base)
        .set(w.runtime)
        .send({ customer_id: w.customer, workflow_type: 'rent_arrears', ...body })
        .expect(201)
    ).body;
  const advance = (w: World, id: string, body: object) =>
    t
      .http()
      .patch(`${w.base}/${id}`)
      .set(w.runtime)
      .send({ action: 'noted', ...body })
      .expect(200);

  const events = async (w: World, type: string): Promise<Stored[]> =>
    (
      await t.raw.query<Stored>(
        `SELECT id, type, instance_id, customer_id, caused_by, depth, occurred_at, data FROM events
          WHERE tenant_id = $1 AND type = $2 ORDER BY position`,
        [w.a.tenantId, type],
      )
    ).rows;
  const triggerCount = async (ruleId: string) =>
    (await t.raw.query('SELECT trigger_count FROM rules WHERE id = $1', [ruleId])).rows[0]
      .trigger_count;
  /** The firing log of each event: [rule, outcome] of each rule it met, by rule id. */
  const outcomes = async (w: World, of: Stored[]) => {
    const { rows } = await t.raw.query<{ event_id: string; rule_id: string; outcome: string }>(
      `SELECT event_id, rule_id, outcome FROM rule_evaluations
        WHERE tenant_id = $1 AND event_id = ANY($2) ORDER BY rule_id`,
      [w.a.tenantId, of.map((e) => e.id)],
    );
    return of.map((e) =>
      rows.filter((r) => r.event_id === e.id).map((r) => [r.rule_id, r.outcome]),
    );
  };
  /** Whether the tenant's cursor has reached its feed's end with every event numbered. */
  const caughtUp = async (w: World) => {
    const { rows } = await t.raw.query(
      `SELECT NOT EXISTS (SELECT 1 FROM events WHERE tenant_id = $1 AND sequence IS NULL)
          AND coalesce((SELECT last FROM event_sequences WHERE tenant_id = $1), 0)
            = coalesce((SELECT evaluated_through FROM event_evaluation_cursors
                         WHERE tenant_id = $1), 0) AS done`,
      [w.a.tenantId],
    );
    return rows[0].done as boolean;
  };
  /** Waits, without doing anything itself, until `check` holds; false if it never did. */
  const until = async (check: () => Promise<boolean>, ms = 5000): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (await check()) return true;
      await sleep(25);
    }
    return check();
  };
  /** Numbers and evaluates by hand until the tenant is caught up: what the wakes would do. */
  const settle = async (w: World) => {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      await t.app.get(EventSequencer).sweep();
      await t.app.get(EventEvaluator).evaluate(w.a.tenantId);
      if (await caughtUp(w)) return;
      await sleep(25);
    }
    throw new Error('the tenant never caught up');
  };

  it('fires a rule on workflow.stage_changed within 2 s of the change, on its own: the approval it asks for is caused by the change, one deeper', async () => {
    const w = await world();
    const asks = await rule(w, {
      trigger_event: 'workflow.stage_changed',
      conditions: [{ field: 'to_stage', operator: 'eq', value: 'court' }],
      actions: [
        {
          type: 'require_approval',
          skill_slug: 'payments',
          action: 'pay_contractor',
          approver_role: 'owner',
        },
      ],
    });
    const wf = await create(w, { stage: 'letter', reference: 'T-42' });
    await advance(w, wf.id, { stage: 'court' });
    const committed = Date.now();
    // Nothing is run by hand: the sequencer's wake starts the pass.
    expect(await until(async () => (await events(w, 'approval.requested')).length > 0)).toBe(true);
    expect(Date.now() - committed).toBeLessThan(2000);

    const [changed] = await events(w, 'workflow.stage_changed');
    const [requested] = await events(w, 'approval.requested');
    expect(requested).toMatchObject({
      instance_id: w.instance,
      customer_id: w.customer,
      caused_by: changed.id,
      depth: 1,
    });
    expect(requested.occurred_at.getTime() - changed.occurred_at.getTime()).toBeLessThan(2000);
    expect(requested.data.approval).toMatchObject({
      rule_id: asks.id,
      customer_id: w.customer,
      instance_id: w.instance,
      skill_slug: 'payments',
      // What the rule saw: the catalog's fields of the change, as the event's data tells them.
      serialized_intent: {
        workflow_type: 'rent_arrears',
        from_stage: 'letter',
        to_stage: 'court',
        reference: 'T-42',
        escalation_level: 0,
      },
    });

    // A change its conditions do not meet fires nothing.
    await advance(w, wf.id, { stage: 'settled' });
    await settle(w);
    expect(await events(w, 'approval.requested')).toHaveLength(1);
    expect(await triggerCount(asks.id)).toBe(1);
  });

  it('goes once more against the rules as they now are when one is deleted under a raised event', async () => {
    const w = await world();
    const kept = await rule(w, { trigger_event: 'workflow.created', actions: notify('a') });
    const gone = await rule(w, { trigger_event: 'workflow.created', actions: notify('b') });
    const deleting = await t.raw.connect();
    try {
      await deleting.query('BEGIN');
      await deleting.query('DELETE FROM rules WHERE tenant_id = $1 AND id = $2', [
        w.a.tenantId,
        gone.id,
      ]);
      await create(w);
      // The wake's evaluation reads the rule set as it was, then waits for the deleted row.
      expect(await until(async () => (await lockWaiters(t)) > 0)).toBe(true);
      await deleting.query('COMMIT');
    } finally {
      await deleting.query('ROLLBACK').catch(() => undefined);
      deleting.release();
    }
    await settle(w);
    const created = await events(w, 'workflow.created');
    expect(await outcomes(w, created)).toEqual([[[kept.id, 'fired']]]);
  });

  it('evaluates each raised event exactly once, with passes running at once on two replicas', async () => {
    const w = await world();
    const tells = await rule(w, { trigger_event: 'workflow.created', actions: notify('ops') });
    const replica = await startAppOnSameDatabase(t);
    const many = 210; // more than two batches
    try {
      await create(w);
      const [model] = await events(w, 'workflow.created');
      // Copies for customers of their own, so no two evaluations wait on one cooldown row and
      // only the cursor keeps two passes apart.
      await t.raw.query(
        `WITH c AS (
           INSERT INTO customers (tenant_id, name)
           SELECT $2, 'c' || n FROM generate_series(1, $3) n RETURNING id)
         INSERT INTO events (tenant_id, type, instance_id, customer_id, caused_by, depth, data)
         SELECT e.tenant_id, e.type, e.instance_id, c.id, e.caused_by, e.depth, e.data
           FROM events e, c WHERE e.id = $1`,
        [model.id, w.a.tenantId, many - 1],
      );
      await t.app.get(EventSequencer).sweep();
      await Promise.all([
        t.app.get(EventEvaluator).evaluate(w.a.tenantId),
        t.app.get(EventEvaluator).runOnce(),
        replica.get(EventEvaluator).evaluate(w.a.tenantId),
        replica.get(EventEvaluator).runOnce(),
      ]);
      await settle(w);
    } finally {
      await replica.close();
    }
    const created = await events(w, 'workflow.created');
    expect(created).toHaveLength(many);
    const told = await events(w, 'notification.requested');
    const causes = told.map((e) => e.caused_by);
    expect(new Set(causes).size).toBe(causes.length);
    expect(new Set(causes)).toEqual(new Set(created.map((e) => e.id)));
    expect(told.every((e) => e.depth === 1)).toBe(true);
    expect(await triggerCount(tells.id)).toBe(many);
  });

  it('leaves a tenant to the replica evaluating it: no event is evaluated by both', async () => {
    const w = await world();
    await rule(w, { trigger_event: 'workflow.stage_changed', actions: notify('ops') });
    const wf = await create(w, { stage: 'a' });
    await settle(w);
    const replica = await startAppOnSameDatabase(t);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const entered: string[] = [];
    // Whichever replica takes the cursor stops inside its evaluation until the gate opens.
    const hold = (app: INestApplication, name: string) => {
      const actions = app.get(RuleActions);
      const fire = actions.fire.bind(actions);
      return jest.spyOn(actions, 'fire').mockImplementation(async (f) => {
        entered.push(name);
        await gate;
        return fire(f);
      });
    };
    const spies = [hold(t.app, 'first'), hold(replica, 'replica')];
    let idle: Promise<number> = Promise.resolve(-1);
    try {
      await advance(w, wf.id, { stage: 'b' }); // both replicas are woken
      expect(await until(() => Promise.resolve(entered.length > 0))).toBe(true);
      const other = entered[0] === 'first' ? replica : t.app;
      idle = other.get(EventEvaluator).evaluate(w.a.tenantId);
      await sleep(300);
      expect(entered).toHaveLength(1);
    } finally {
      release();
      spies.forEach((spy) => spy.mockRestore());
    }
    expect(await idle).toBe(0);
    await settle(w);
    await replica.close();
    const [change] = await events(w, 'workflow.stage_changed');
    const told = await events(w, 'notification.requested');
    expect(told.map((e) => e.caused_by)).toEqual([change.id]);
  });

  it('stops a rule that feeds itself after three runs: the fourth-level event is not evaluated', async () => {
    const w = await world();
    const feeds = await rule(w, {
      trigger_event: 'workflow.created',
      customer_id: w.customer,
      actions: [{ type: 'create_workflow', workflow_type: 'lead' }],
    });
    await create(w);
    expect(await until(async () => (await events(w, 'workflow.created')).length >= 4)).toBe(true);
    await settle(w);
    await sleep(200); // a fifth would be on its way by now
    await settle(w);
    const created = await events(w, 'workflow.created');
    expect(created.map((e) => e.depth)).toEqual([0, 1, 2, 3]);
    expect(created.map((e) => e.caused_by)).toEqual([
      null,
      ...created.slice(0, 3).map((e) => e.id),
    ]);
    expect(await triggerCount(feeds.id)).toBe(3);
    const { rows } = await t.raw.query('SELECT count(*) FROM workflows WHERE tenant_id = $1', [
      w.a.tenantId,
    ]);
    expect(rows[0].count).toBe('4');
    // The firing log: three firings, then the refusal of the event too deep to evaluate.
    expect(await outcomes(w, created)).toEqual([
      [[feeds.id, 'fired']],
      [[feeds.id, 'fired']],
      [[feeds.id, 'fired']],
      [[feeds.id, 'loop_guard']],
    ]);
  });

  it('fires nothing for an event whose rules would create more than one event may, and goes on', async () => {
    const w = await world();
    const tenWorkflows = Array(10).fill({ type: 'create_workflow', workflow_type: 'lead' });
    const big = [];
    for (let i = 0; i < 3; i++) {
      big.push(
        await rule(w, {
          trigger_event: 'workflow.stage_changed',
          conditions: [{ field: 'to_stage', operator: 'eq', value: 'big' }],
          actions: tenWorkflows,
        }),
      );
    }
    const small = await rule(w, {
      trigger_event: 'workflow.stage_changed',
      conditions: [{ field: 'to_stage', operator: 'eq', value: 'small' }],
      actions: notify('ops'),
    });
    const wf = await create(w, { stage: 'a' });
    await advance(w, wf.id, { stage: 'big' });
    await advance(w, wf.id, { stage: 'small' });
    await settle(w);

    const changes = await events(w, 'workflow.stage_changed');
    expect(await outcomes(w, changes)).toEqual([
      big.map((r) => [r.id, 'limit_exceeded']).sort(),
      [[small.id, 'fired']],
    ]);
    expect(await events(w, 'workflow.created')).toHaveLength(1); // the route's own
    for (const r of big) expect(await triggerCount(r.id)).toBe(0);
    const told = await events(w, 'notification.requested');
    expect(told.map((e) => e.caused_by)).toEqual([changes[1].id]);
  });

  it('holds a rule by its cooldown and a tenant default by its customer override, as for POSTed events', async () => {
    const w = await world();
    const other = await w.a.customer('Other');
    const tenantDefault = await rule(w, {
      trigger_event: 'workflow.stage_changed',
      rule_key: 'stage',
      cooldown_seconds: 3600,
      actions: notify('tenant'),
    });
    const override = await rule(w, {
      trigger_event: 'workflow.stage_changed',
      rule_key: 'stage',
      customer_id: other,
      actions: notify('other'),
    });
    const mine = await create(w, { stage: 'a' });
    const theirs = await create(w, { stage: 'a', customer_id: other });
    await advance(w, mine.id, { stage: 'b' });
    await advance(w, mine.id, { stage: 'c' }); // within the cooldown
    await advance(w, theirs.id, { stage: 'b' });
    await advance(w, theirs.id, { stage: 'c' }); // the override has no cooldown
    await settle(w);

    const changes = await events(w, 'workflow.stage_changed');
    const told = await events(w, 'notification.requested');
    expect(told.map((e) => [e.caused_by, e.data.to, e.customer_id])).toEqual([
      [changes[0].id, 'tenant', w.customer],
      [changes[2].id, 'other', other],
      [changes[3].id, 'other', other],
    ]);
    expect(await triggerCount(tenantDefault.id)).toBe(1);
    expect(await triggerCount(override.id)).toBe(2);
  });

  it('passes over an event the runtime POSTed under a raised type: its rules ran when it was received', async () => {
    const w = await world();
    const tells = await rule(w, { trigger_event: 'workflow.created', actions: notify('ops') });
    const fire = jest.spyOn(t.app.get(RuleActions), 'fire');
    const res = await t
      .http()
      .post(`/internal/v1/instances/${w.instance}/events`)
      .set(w.runtime)
      .send({ event: 'workflow.created', customer_id: w.customer, payload: { stage: 'x' } })
      .expect(200);
    expect(res.body.fired.map((f: { rule_id: string }) => f.rule_id)).toEqual([tells.id]);
    await settle(w);
    const calls = [...fire.mock.calls];
    fire.mockRestore();
    const [posted] = await events(w, 'workflow.created');
    // Its rules were fired once, by the route; a second firing would have been refused anyway.
    expect(calls.filter(([f]) => f.eventId === posted.id)).toHaveLength(1);
    const told = await events(w, 'notification.requested');
    expect(told.map((e) => e.caused_by)).toEqual([posted.id]);
    expect(await triggerCount(tells.id)).toBe(1);
    const { rows } = await t.raw.query(
      'SELECT count(*) FROM events_evaluated_on_receipt WHERE tenant_id = $1',
      [w.a.tenantId],
    );
    expect(rows[0].count).toBe('0'); // the mark goes once the pass has passed the event
  });

  it('passes over an event whose actions fail, and evaluates the events after it', async () => {
    const w = await world();
    await rule(w, {
      trigger_event: 'workflow.stage_changed',
      actions: [{ type: 'require_approval', skill_slug: 'payments', action: 'pay_contractor' }],
    });
    const wf = await create(w, { stage: 'a' });
    await advance(w, wf.id, { stage: 'b' });
    await settle(w);
    const [first] = await events(w, 'workflow.stage_changed');
    // The same change again, for a customer that is gone: its approval cannot be made.
    await t.raw.query(
      `INSERT INTO events (tenant_id, type, instance_id, customer_id, depth, data)
       SELECT tenant_id, type, instance_id, $2, depth, data FROM events WHERE id = $1`,
      [first.id, randomUUID()],
    );
    await advance(w, wf.id, { stage: 'c' });
    await settle(w);

    const changes = await events(w, 'workflow.stage_changed');
    expect(changes).toHaveLength(3);
    const requested = await events(w, 'approval.requested');
    expect(requested.map((e) => e.caused_by)).toEqual([changes[0].id, changes[2].id]);
  });

  it('still evaluates, within 2 s, an event whose wake came while another held the cursor', async () => {
    const w = await world();
    await rule(w, { trigger_event: 'workflow.stage_changed', actions: notify('ops') });
    const wf = await create(w, { stage: 'a' });
    await settle(w);
    const holder: PoolClient = await t.raw.connect();
    let released = 0;
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM event_evaluation_cursors WHERE tenant_id = $1 FOR UPDATE', [
        w.a.tenantId,
      ]);
      await advance(w, wf.id, { stage: 'b' });
      await sleep(500);
      expect(await events(w, 'notification.requested')).toEqual([]);
    } finally {
      await holder.query('ROLLBACK');
      released = Date.now();
      holder.release();
    }
    expect(await until(async () => (await events(w, 'notification.requested')).length > 0)).toBe(
      true,
    );
    expect(Date.now() - released).toBeLessThan(2000);
  });

  it('finds a tenant whose wake was lost by its look across tenants, as hydracore_worker', async () => {
    const w = await world();
    await rule(w, { trigger_event: 'workflow.created', actions: notify('ops') });
    await create(w);
    await settle(w);
    // A wake for settle's own events may still be on its way (NOTIFY is delivered when it
    // is), and a pass that met the cursor held looks again 100 ms later: let them come and
    // go first, or one would find the event below and stand in for the lost wake.
    await sleep(250);
    await t.app.get(EventEvaluator).settled();
    const [model] = await events(w, 'workflow.created');
    // Numbered in the writing transaction itself: no sequencer pass, so no wake.
    await t.raw.query(
      `WITH counter AS (
         UPDATE event_sequences SET last = last + 1 WHERE tenant_id = $2 RETURNING last)
       INSERT INTO events (tenant_id, type, instance_id, customer_id, depth, data, sequence)
       SELECT e.tenant_id, e.type, e.instance_id, e.customer_id, e.depth, e.data, counter.last
         FROM events e, counter WHERE e.id = $1`,
      [model.id, w.a.tenantId],
    );
    await sleep(300);
    expect(await events(w, 'notification.requested')).toHaveLength(1);
    expect(await t.app.get(EventEvaluator).runOnce()).toBeGreaterThanOrEqual(1);
    expect(await events(w, 'notification.requested')).toHaveLength(2);

    // That look sees each tenant's cursor and feed end, and nothing else of either table.
    const asWorker = async (sql: string) => {
      const client = await t.owner.connect();
      try {
        await client.query('BEGIN');
        await client.query('SET LOCAL ROLE hydracore_worker');
        return (await client.query(sql)).rows;
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    };
    const cursors = await asWorker(
      'SELECT tenant_id, evaluated_through FROM event_evaluation_cursors',
    );
    expect(cursors.map((r) => r.tenant_id)).toContain(w.a.tenantId);
    const ends = await asWorker('SELECT tenant_id, last FROM event_sequences');
    expect(ends.map((r) => r.tenant_id)).toContain(w.a.tenantId);
    for (const sql of [
      'SELECT purged_through FROM event_sequences',
      'SELECT event_id FROM events_evaluated_on_receipt',
      'SELECT type FROM events',
    ]) {
      await expect(asWorker(sql)).rejects.toThrow(/permission denied/);
    }
  });
});
