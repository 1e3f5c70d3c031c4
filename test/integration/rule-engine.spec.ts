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
});
