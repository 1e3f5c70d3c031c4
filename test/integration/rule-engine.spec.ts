import { randomUUID } from 'node:crypto';
import { TenantDb } from '../../src/database/tenant-db';
import { InvalidFields } from '../../src/common/errors';
import { RuleEngine, RuleFiring } from '../../src/rules/engine/rule-engine';
import { RuleFiringRepository } from '../../src/rules/engine/rule-firing.repository';
import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

/**
 * The rule engine on its own, against PostgreSQL: what it decides for an event and what it
 * writes, without the events route around it. Each test has a tenant of its own.
 */
describe('rule engine', () => {
  let t: TestApp;
  let engine: RuleEngine;
  let db: TenantDb;

  beforeAll(async () => {
    t = await startTestApp();
    engine = t.app.get(RuleEngine);
    db = t.app.get(TenantDb);
  });
  afterAll(() => t.close());

  interface World {
    s: TenantSession;
    instance: string;
    customer: string;
  }

  const world = async (): Promise<World> => {
    const s = await TenantSession.create(t, 'Engine');
    return { s, instance: await s.instance(), customer: await s.customer() };
  };

  /** A rule written through the API, as its author would; blocks, no cooldown unless said. */
  const rule = async (w: World, body: object = {}): Promise<{ id: string }> =>
    (
      await t
        .http()
        .post('/v1/rules')
        .set(w.s.admin)
        .send({
          name: 'r',
          trigger_event: 'skill.invoked',
          cooldown_seconds: 0,
          actions: [{ type: 'block', reason: 'no' }],
          ...body,
        })
        .expect(201)
    ).body;

  const facts = (w: World, over: { customer?: string; instance?: string; payload?: object }) => ({
    tenantId: w.s.tenantId,
    eventId: randomUUID(),
    instanceId: over.instance ?? w.instance,
    customerId: over.customer ?? w.customer,
    event: 'skill.invoked',
    payload: { ...over.payload },
  });

  /** One event in a tenant transaction of its own, committed. */
  const fire = (w: World, over: { customer?: string; instance?: string; payload?: object } = {}) =>
    db.run(w.s.tenantId, () => engine.fire(facts(w, over)));

  const fired = (f: RuleFiring) => f.fired.map((r) => r.id);

  const counters = async (id: string) =>
    (await t.raw.query('SELECT trigger_count, last_triggered_at FROM rules WHERE id = $1', [id]))
      .rows[0];

  it('fires the rules of this instance and customer, and those of the whole tenant', async () => {
    const w = await world();
    const otherCustomer = await w.s.customer('Other');
    const otherInstance = await w.s.instance('Other');
    const tenantWide = await rule(w, { priority: 40 });
    const mine = await rule(w, { customer_id: w.customer, priority: 30 });
    const thisInstance = await rule(w, { instance_id: w.instance, priority: 20 });
    const theirs = await rule(w, { customer_id: otherCustomer, priority: 10 });
    const elsewhere = await rule(w, { instance_id: otherInstance });

    const decided = await fire(w);
    expect(fired(decided)).toEqual([tenantWide.id, mine.id, thisInstance.id]);
    expect(decided.fired[0]).toEqual({
      id: tenantWide.id,
      name: 'r',
      actions: [{ type: 'block', reason: 'no' }],
    });
    // Rules out of scope are not the event's business: not even listed as held back.
    const listed = [...decided.suppressed, ...decided.skipped].map((r) => r.ruleId);
    expect(listed).not.toContain(theirs.id);
    expect(listed).not.toContain(elsewhere.id);

    const there = await fire(w, { customer: otherCustomer, instance: otherInstance });
    expect(fired(there)).toEqual([tenantWide.id, theirs.id, elsewhere.id]);
  });

  it('lets a customer rule override the tenant default of the same rule_key', async () => {
    const w = await world();
    const other = await w.s.customer('Other');
    const tenantDefault = await rule(w, { rule_key: 'limit', priority: 10 });
    const override = await rule(w, { rule_key: 'limit', customer_id: w.customer });
    const unkeyed = await rule(w, { priority: 5 });

    const decided = await fire(w);
    expect(fired(decided)).toEqual([unkeyed.id, override.id]);
    expect(decided.suppressed).toEqual([{ ruleId: tenantDefault.id, reason: 'overridden' }]);
    // Another customer has no override: the tenant default is theirs.
    expect(fired(await fire(w, { customer: other }))).toEqual([tenantDefault.id, unkeyed.id]);
  });

  it('skips a rule whose conditions the payload does not meet, and counts nothing for it', async () => {
    const w = await world();
    const big = await rule(w, { conditions: [{ field: 'amount', operator: 'gt', value: 500 }] });

    const small = await fire(w, { payload: { amount: 100 } });
    expect(small.fired).toEqual([]);
    expect(small.skipped).toEqual([{ ruleId: big.id, reason: 'conditions_not_met' }]);
    expect((await counters(big.id)).trigger_count).toBe(0);

    expect(fired(await fire(w, { payload: { amount: 750 } }))).toEqual([big.id]);
  });

  it('gives a cooldown to one of two concurrent events, the other held back', async () => {
    const w = await world();
    const cooled = await rule(w, { cooldown_seconds: 300 });
    // The first event claims the cooldown and holds its transaction open; the second arrives
    // while the claim is not yet committed, waits for it, and finds the rule cooling down.
    let claimed!: () => void;
    let commit!: () => void;
    const firstClaimed = new Promise<void>((resolve) => (claimed = resolve));
    const committing = new Promise<void>((resolve) => (commit = resolve));
    const first = db.run(w.s.tenantId, async () => {
      const decided = await engine.fire(facts(w, {}));
      claimed();
      await committing;
      return decided;
    });
    await firstClaimed;
    const second = fire(w);
    await new Promise((resolve) => setTimeout(resolve, 100));
    commit();
    const [one, two] = await Promise.all([first, second]);

    expect(fired(one)).toEqual([cooled.id]);
    expect(two.fired).toEqual([]);
    expect(two.suppressed).toEqual([{ ruleId: cooled.id, reason: 'cooldown' }]);
    expect((await counters(cooled.id)).trigger_count).toBe(1);
    // The cooldown is per customer: another customer's event fires the rule.
    expect(fired(await fire(w, { customer: await w.s.customer('Other') }))).toEqual([cooled.id]);
  });

  it('counts each firing on the rule, and when it last fired', async () => {
    const w = await world();
    const counted = await rule(w);
    expect(await counters(counted.id)).toEqual({ trigger_count: 0, last_triggered_at: null });
    await fire(w);
    const once = await counters(counted.id);
    expect(once).toEqual({ trigger_count: 1, last_triggered_at: expect.any(Date) });
    await fire(w);
    const twice = await counters(counted.id);
    expect(twice.trigger_count).toBe(2);
    expect(twice.last_triggered_at.getTime()).toBeGreaterThan(once.last_triggered_at.getTime());
  });

  it('refuses an event whose rules would create too many approvals, keeping no claim or count', async () => {
    const w = await world();
    const approval = { type: 'require_approval', skill_slug: 'payments', action: 'pay_contractor' };
    const many = [];
    for (let i = 0; i < 3; i++)
      many.push(await rule(w, { cooldown_seconds: 300, actions: Array(10).fill(approval) }));

    await expect(fire(w)).rejects.toBeInstanceOf(InvalidFields);
    for (const r of many) expect((await counters(r.id)).trigger_count).toBe(0);
    const claims = await t.raw.query(
      'SELECT count(*)::int AS n FROM rule_cooldowns WHERE tenant_id = $1',
      [w.s.tenantId],
    );
    expect(claims.rows[0].n).toBe(0);
  });

  it('reads the rules once while they stay the same, and again after a rule is written', async () => {
    const w = await world();
    const loads = jest.spyOn(RuleFiringRepository.prototype, 'activeRules');
    const loadsOfTenant = () =>
      loads.mock.calls.filter(([tenant]) => tenant === w.s.tenantId).length;
    try {
      const first = await rule(w);
      expect(fired(await fire(w))).toEqual([first.id]);
      expect(fired(await fire(w))).toEqual([first.id]); // firing counts, which is no rule write
      expect(loadsOfTenant()).toBe(1);

      await t
        .http()
        .patch(`/v1/rules/${first.id}`)
        .set(w.s.admin)
        .send({ is_active: false })
        .expect(200);
      expect(fired(await fire(w))).toEqual([]);
      expect(loadsOfTenant()).toBe(2);

      const second = await rule(w);
      expect(fired(await fire(w))).toEqual([second.id]);
      expect(loadsOfTenant()).toBe(3);
    } finally {
      loads.mockRestore();
    }
  });
  /** The firing log's rows of the tenant, oldest first (ids are time-ordered). */
  const logged = async (w: World) =>
    (
      await t.raw.query(
        `SELECT rule_id, outcome, decision, actions FROM rule_evaluations
          WHERE tenant_id = $1 ORDER BY id`,
        [w.s.tenantId],
      )
    ).rows;
  const claims = async (w: World) =>
    (
      await t.raw.query('SELECT count(*)::int AS n FROM rule_cooldowns WHERE tenant_id = $1', [
        w.s.tenantId,
      ])
    ).rows[0].n;

  it('logs each rule that fired or was held back, in priority order, and none skipped', async () => {
    const w = await world();
    const cooled = await rule(w, { cooldown_seconds: 300, priority: 40 });
    const tenantDefault = await rule(w, { rule_key: 'k', priority: 30 });
    const override = await rule(w, {
      rule_key: 'k',
      customer_id: w.customer,
      priority: 20,
      actions: [
        { type: 'require_approval', skill_slug: 'payments', action: 'pay_contractor' },
        { type: 'notify', to: 'ops', message: 'seen' },
      ],
    });
    await rule(w, { conditions: [{ field: 'amount', operator: 'gt', value: 500 }] });
    await fire(w);
    await t.raw.query('DELETE FROM rule_evaluations WHERE tenant_id = $1', [w.s.tenantId]);

    const eventId = randomUUID();
    await db.run(w.s.tenantId, () => engine.fire({ ...facts(w, {}), eventId }));
    expect(await logged(w)).toEqual([
      { rule_id: cooled.id, outcome: 'suppressed_cooldown', decision: null, actions: [] },
      { rule_id: tenantDefault.id, outcome: 'overridden', decision: null, actions: [] },
      {
        rule_id: override.id,
        outcome: 'fired',
        decision: 'require_approval',
        actions: [{ type: 'require_approval' }, { type: 'notify' }],
      },
    ]);
    // The event's facts are kept once, for the skipped rule to be explained by.
    const { rows } = await t.raw.query(
      'SELECT event_type, customer_id, payload FROM rule_evaluated_events WHERE event_id = $1',
      [eventId],
    );
    expect(rows).toEqual([{ event_type: 'skill.invoked', customer_id: w.customer, payload: {} }]);

    // What the actions created is added once they have run.
    const approvalId = randomUUID();
    await db.run(w.s.tenantId, () =>
      engine.recordResults(w.s.tenantId, eventId, [
        {
          ruleId: override.id,
          actions: [{ type: 'require_approval' }, { type: 'notify' }],
          results: [{ approvalId, approvalRef: 'APR-1' }, { outboxId: randomUUID() }],
        },
      ]),
    );
    expect((await logged(w))[2].actions).toEqual([
      { type: 'require_approval', approval_id: approvalId },
      { type: 'notify' },
    ]);
  });

  it('when told to record, logs the rules over the effects limit as limit_exceeded and keeps no claim or count', async () => {
    const w = await world();
    const approval = { type: 'require_approval', skill_slug: 'payments', action: 'pay_contractor' };
    const cooled = await rule(w, { cooldown_seconds: 300, priority: 10 });
    await fire(w);
    const many = [];
    for (let i = 0; i < 3; i++)
      many.push(await rule(w, { cooldown_seconds: 300, actions: Array(10).fill(approval) }));
    await t.raw.query('DELETE FROM rule_evaluations WHERE tenant_id = $1', [w.s.tenantId]);

    const decided = await db.run(w.s.tenantId, () =>
      engine.fire(facts(w, {}), { onLimit: 'record' }),
    );
    expect(decided.fired).toEqual([]);
    expect(decided.limitExceeded).toBe(true);
    expect(decided.suppressed).toEqual([
      { ruleId: cooled.id, reason: 'cooldown' },
      ...many.map((r) => ({ ruleId: r.id, reason: 'limit_exceeded' })),
    ]);
    expect(await logged(w)).toEqual([
      { rule_id: cooled.id, outcome: 'suppressed_cooldown', decision: null, actions: [] },
      ...many.map((r) => ({
        rule_id: r.id,
        outcome: 'limit_exceeded',
        decision: null,
        actions: [],
      })),
    ]);
    for (const r of many) expect((await counters(r.id)).trigger_count).toBe(0);
    expect(await claims(w)).toBe(1); // the cooled rule's, from before

    // Refusing stays the default: the caller's transaction goes, its log with it.
    await expect(fire(w)).rejects.toBeInstanceOf(InvalidFields);
    expect(await logged(w)).toHaveLength(4);
  });

  it('logs every rule an event too deep to evaluate would have met as loop_guard, firing none', async () => {
    const w = await world();
    const other = await w.s.customer('Other');
    const first = await rule(w, { priority: 20, cooldown_seconds: 300 });
    const second = await rule(w, {
      customer_id: w.customer,
      conditions: [{ field: 'amount', operator: 'gt', value: 500 }],
    });
    await rule(w, { customer_id: other });

    await db.run(w.s.tenantId, () => engine.refuse(facts(w, {}), 'loop_guard'));
    expect(await logged(w)).toEqual([
      { rule_id: first.id, outcome: 'loop_guard', decision: null, actions: [] },
      { rule_id: second.id, outcome: 'loop_guard', decision: null, actions: [] },
    ]);
    expect((await counters(first.id)).trigger_count).toBe(0);
    expect(await claims(w)).toBe(0);
  });
});
