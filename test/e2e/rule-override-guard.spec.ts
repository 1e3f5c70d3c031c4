import { QueryRunner } from 'typeorm';
import { RuleOverrideGuard1732408200000 } from '../../migrations/1732408200000-rule-override-guard';
import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

/**
 * Guard rules: a tenant default with allow_customer_override false fires for every customer,
 * whatever their rules of its rule_key, and no customer rule may take that key. Each test has a
 * tenant of its own.
 */
describe('rule override guard', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  interface World {
    s: TenantSession;
    customer: string;
    customerAdmin: Record<string, string>;
    instance: string;
    runtime: Record<string, string>;
  }

  const world = async (): Promise<World> => {
    const s = await TenantSession.create(t, 'Guard');
    const instance = await s.instance();
    const customer = await s.customer();
    return {
      s,
      customer,
      customerAdmin: s.customerAdmin(customer),
      instance,
      runtime: (await s.proxyKey(instance)).headers,
    };
  };

  /** "Payments over 100 need approval", as a tenant default keyed big-payments. */
  const GUARD = {
    name: 'Payments over 100 need approval',
    trigger_event: 'skill.invoked',
    cooldown_seconds: 0,
    rule_key: 'big-payments',
    conditions: [{ field: 'amount', operator: 'gt', value: 100 }],
    actions: [
      {
        type: 'require_approval',
        skill_slug: 'payments',
        action: 'pay_contractor',
        approver_role: 'owner',
      },
    ],
  };
  /** A customer's same-key rule that never matches: what would switch the guard off. */
  const NEVER = {
    name: 'Never',
    trigger_event: 'skill.invoked',
    cooldown_seconds: 0,
    rule_key: 'big-payments',
    conditions: [{ field: 'amount', operator: 'gt', value: 1_000_000_000 }],
    actions: [{ type: 'notify', to: 'nobody', message: 'never' }],
  };

  /** NEVER as the world's customer's rule, `over` it. */
  const mine = (w: World, over: object = {}) => ({ ...NEVER, customer_id: w.customer, ...over });
  const create = (w: World, body: object, headers = w.s.admin) =>
    t.http().post('/v1/rules').set(headers).send(body);
  const patch = (w: World, id: string, body: object, headers = w.s.admin) =>
    t.http().patch(`/v1/rules/${id}`).set(headers).send(body);
  const fire = (w: World, payload: object) =>
    t
      .http()
      .post(`/internal/v1/instances/${w.instance}/events`)
      .set(w.runtime)
      .send({ event: 'skill.invoked', customer_id: w.customer, payload })
      .expect(200);
  /** The tenant's rules as stored, read past RLS. */
  const stored = async (w: World) =>
    (
      await t.raw.query(
        `SELECT id, customer_id, rule_key, allow_customer_override, name FROM rules
          WHERE tenant_id = $1 ORDER BY created_at, id`,
        [w.s.tenantId],
      )
    ).rows;
  const ids = (list: { rule_id: string }[]) => list.map((x) => x.rule_id);

  it('creates rules overridable by default, as before', async () => {
    const w = await world();
    const res = await create(w, GUARD).expect(201);
    expect(res.body.allow_customer_override).toBe(true);
    const read = await t.http().get(`/v1/rules/${res.body.id}`).set(w.customerAdmin).expect(200);
    expect(read.body.allow_customer_override).toBe(true);
    expect(await stored(w)).toEqual([expect.objectContaining({ allow_customer_override: true })]);
    // And a customer rule of its key may still be written, and still overrides it.
    const override = (await create(w, mine(w), w.customerAdmin).expect(201)).body;
    expect(override.allow_customer_override).toBe(true);
    const decided = (await fire(w, { amount: 500 })).body;
    expect(decided.suppressed).toContainEqual({ rule_id: res.body.id, reason: 'overridden' });
    expect(decided.decision).toBe('allow');
  });

  it('fires the guard for a customer whose rule of its key predates the flag', async () => {
    const w = await world();
    const guard = (await create(w, GUARD).expect(201)).body;
    const override = (await create(w, mine(w), w.customerAdmin).expect(201)).body;
    const before = (await fire(w, { amount: 500 })).body;
    expect(before.decision).toBe('allow');
    expect(before.suppressed).toContainEqual({ rule_id: guard.id, reason: 'overridden' });

    // Allowed though the customer's rule exists: it stays, and stops suppressing the default.
    const flagged = await patch(w, guard.id, { allow_customer_override: false }).expect(200);
    expect(flagged.body.allow_customer_override).toBe(false);
    expect((await stored(w)).map((r) => r.id)).toEqual([guard.id, override.id]);

    const after = (await fire(w, { amount: 500 })).body;
    expect(after.decision).toBe('require_approval');
    expect(ids(after.fired)).toEqual([guard.id]);
    expect(ids(after.suppressed)).not.toContain(guard.id);
    // The customer's rule is still evaluated, beside the guard: here its conditions fail.
    expect(after.skipped).toContainEqual({ rule_id: override.id, reason: 'conditions_not_met' });

    const log = (await t.http().get(`/v1/rules/${guard.id}/firings`).set(w.s.admin).expect(200))
      .body.firings;
    expect(log.map((f: { outcome: string }) => f.outcome)).toEqual(['fired', 'overridden']);
    expect(log[0]).toMatchObject({ decision: 'require_approval' });
  });

  it('fires both the guard and a matching customer rule of its key, as one written in a race would', async () => {
    const w = await world();
    const guard = (await create(w, { ...GUARD, allow_customer_override: false }).expect(201)).body;
    // Past the service's check, as a create racing the flag's write would be.
    const { rows } = await t.raw.query<{ id: string }>(
      `INSERT INTO rules (tenant_id, customer_id, name, trigger_event, actions, cooldown_seconds,
                          rule_key)
       VALUES ($1, $2, 'Raced', 'skill.invoked', '[{"type":"notify","to":"a","message":"b"}]',
               0, 'big-payments')
       RETURNING id`,
      [w.s.tenantId, w.customer],
    );
    const decided = (await fire(w, { amount: 500 })).body;
    expect(ids(decided.fired).sort()).toEqual([guard.id, rows[0].id].sort());
    expect(decided.suppressed).toEqual([]);
    expect(decided.decision).toBe('require_approval');
  });

  it('refuses with 409 a customer rule taking a guarded rule_key, writing nothing', async () => {
    const w = await world();
    const guard = (await create(w, { ...GUARD, allow_customer_override: false }).expect(201)).body;
    const own = (await create(w, mine(w, { rule_key: 'mine' }), w.customerAdmin).expect(201)).body;
    const before = await stored(w);

    for (const headers of [w.customerAdmin, w.s.admin]) {
      const res = await create(w, { ...NEVER, customer_id: w.customer }, headers).expect(409);
      expect(res.body).toEqual({ detail: expect.stringContaining('big-payments') });
    }
    // Taking the key by a PATCH is the same.
    await patch(w, own.id, { rule_key: 'big-payments' }, w.customerAdmin).expect(409);
    // As is moving a tenant default of that key to a customer.
    const twin = (await create(w, { ...NEVER, name: 'Twin' }).expect(201)).body;
    const withTwin = await stored(w);
    const moved = await patch(w, twin.id, { customer_id: w.customer }).expect(409);
    expect(moved.body).toEqual({ detail: expect.any(String) });
    expect(await stored(w)).toEqual(withTwin);
    expect(withTwin.filter((r) => r.id !== twin.id)).toEqual(before);

    // Another key is fine (a second tenant default of the guarded key, Twin, was too).
    await create(w, mine(w, { rule_key: 'other' }), w.customerAdmin).expect(201);
    expect((await stored(w)).find((r) => r.id === guard.id).allow_customer_override).toBe(false);
  });

  it('lets a customer rule that held the key before the flag be edited, but not re-keyed back', async () => {
    const w = await world();
    const guard = (await create(w, GUARD).expect(201)).body;
    const override = (await create(w, mine(w), w.customerAdmin).expect(201)).body;
    await patch(w, guard.id, { allow_customer_override: false }).expect(200);
    await patch(
      w,
      override.id,
      { name: 'Renamed', rule_key: 'big-payments' },
      w.customerAdmin,
    ).expect(200);
    await patch(w, override.id, { rule_key: 'elsewhere' }, w.customerAdmin).expect(200);
    await patch(w, override.id, { rule_key: 'big-payments' }, w.customerAdmin).expect(409);
    expect((await stored(w)).find((r) => r.id === override.id)).toMatchObject({
      name: 'Renamed',
      rule_key: 'elsewhere',
    });
  });

  it('refuses the flag from a customer admin with 403, writing nothing', async () => {
    const w = await world();
    const own = (await create(w, mine(w), w.customerAdmin).expect(201)).body;
    const before = await stored(w);
    for (const value of [true, false]) {
      const created = await create(
        w,
        mine(w, { rule_key: 'x', allow_customer_override: value }),
        w.customerAdmin,
      ).expect(403);
      expect(created.body).toEqual({ detail: expect.stringContaining('allow_customer_override') });
      await patch(w, own.id, { allow_customer_override: value }, w.customerAdmin).expect(403);
    }
    expect(await stored(w)).toEqual(before);
  });

  it('refuses false on a customer rule with 422, and a guard moved to a customer unless it says true', async () => {
    const w = await world();
    const onCustomer = await create(w, {
      ...NEVER,
      customer_id: w.customer,
      allow_customer_override: false,
    }).expect(422);
    expect(onCustomer.body.detail).toEqual([
      expect.objectContaining({ loc: ['body', 'allow_customer_override'], type: 'value_error' }),
    ]);
    const guard = (await create(w, { ...GUARD, allow_customer_override: false }).expect(201)).body;
    const before = await stored(w);

    const silent = await patch(w, guard.id, { customer_id: w.customer }).expect(422);
    expect(silent.body.detail).toEqual([
      expect.objectContaining({ loc: ['body', 'customer_id'], type: 'value_error' }),
    ]);
    const explicit = await patch(w, guard.id, {
      customer_id: w.customer,
      allow_customer_override: false,
    }).expect(422);
    expect(explicit.body.detail[0].loc).toEqual(['body', 'allow_customer_override']);
    expect(await stored(w)).toEqual(before);

    const moved = await patch(w, guard.id, {
      customer_id: w.customer,
      allow_customer_override: true,
    }).expect(200);
    expect(moved.body).toMatchObject({ customer_id: w.customer, allow_customer_override: true });
  });

  it('keeps a customer rule overridable in the database too', async () => {
    const w = await world();
    const own = (await create(w, mine(w), w.customerAdmin).expect(201)).body;
    await expect(
      t.raw.query('UPDATE rules SET allow_customer_override = false WHERE id = $1', [own.id]),
    ).rejects.toThrow(/rules_override_guard_on_defaults/);
  });

  it('migrates down and up again: the column, its index and the version trigger', async () => {
    const client = await t.owner.connect();
    const q = { query: (sql: string) => client.query(sql) } as unknown as QueryRunner;
    const column = async () =>
      (
        await client.query(
          `SELECT count(*)::int AS n FROM information_schema.columns
            WHERE table_name = 'rules' AND column_name = 'allow_customer_override'`,
        )
      ).rows[0].n;
    const trigger = async () =>
      (
        await client.query(
          `SELECT pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgname = 'rules_bump_version'`,
        )
      ).rows[0].def as string;
    const migration = new RuleOverrideGuard1732408200000();
    try {
      await client.query('BEGIN');
      expect(await trigger()).toContain('allow_customer_override');
      await migration.down(q);
      expect(await column()).toBe(0);
      expect(await trigger()).not.toContain('allow_customer_override');
      expect(await trigger()).toContain('rule_key');
      await migration.up(q);
      expect(await column()).toBe(1);
      expect(await trigger()).toContain('allow_customer_override');
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});
