import { RuleWorld, VALID_RULE as valid, ruleCalls, ruleWorld } from '../helpers/rule-world';

describe('rules', () => {
  let world: RuleWorld;
  let { t, a, c1 } = {} as RuleWorld;

  beforeAll(async () => {
    world = await ruleWorld();
    ({ t, a, c1 } = world);
  });
  afterAll(() => world.t.close());

  const { create, rule, count } = ruleCalls(() => world);

  describe('catalogs', () => {
    it('lists trigger types with typed payload fields, without a credential', async () => {
      const res = await t.http().get('/v1/rules/trigger-types').expect(200);
      const events = res.body.map((x: { event: string }) => x.event);
      expect(events).toEqual(
        expect.arrayContaining([
          'message.received',
          'skill.invoked',
          'workflow.created',
          'workflow.stage_changed',
          'workflow.status_changed',
          'approval.resolved',
          'rent.overdue',
          'maintenance.reported',
          'invoice.overdue',
          'compliance.expiring',
          'viewing.booked',
        ]),
      );
      const skill = res.body.find((x: { event: string }) => x.event === 'skill.invoked');
      expect(skill).toMatchObject({ label: expect.any(String), description: expect.any(String) });
      expect(skill.payload_fields).toEqual(
        expect.arrayContaining([
          { name: 'amount', type: 'number', label: expect.any(String), values: null },
          {
            name: 'currency',
            type: 'enum',
            label: expect.any(String),
            values: ['GBP', 'EUR', 'USD'],
          },
        ]),
      );
      const types = new Set(
        res.body.flatMap((x: { payload_fields: { type: string }[] }) =>
          x.payload_fields.map((f) => f.type),
        ),
      );
      expect(types).toEqual(new Set(['string', 'number', 'boolean', 'enum', 'datetime']));
    });

    it('lists replayable services without a credential', async () => {
      const res = await t.http().get('/v1/rules/replayable-services').expect(200);
      const payments = res.body.find((s: { skill_slug: string }) => s.skill_slug === 'payments');
      expect(payments.actions.map((x: { action: string }) => x.action)).toEqual([
        'pay_contractor',
        'refund_deposit',
      ]);
      expect(payments.actions[0].params[0]).toEqual({
        name: 'contractor_id',
        type: 'string',
        label: expect.any(String),
        required: true,
      });
      expect(res.body.map((s: { skill_slug: string }) => s.skill_slug)).toEqual([
        'payments',
        'maintenance',
        'messaging',
        'tenancy',
      ]);
    });
  });

  describe('create, read, update, delete', () => {
    it('creates with the seeds’ defaults and cleaned actions', async () => {
      const res = await create({ customer_id: c1 }).expect(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        tenant_id: a.tenantId,
        customer_id: c1,
        instance_id: null,
        name: valid.name,
        description: null,
        trigger_event: 'skill.invoked',
        conditions: valid.conditions,
        actions: [
          {
            type: 'require_approval',
            skill_slug: 'payments',
            action: 'pay_contractor',
            approver_role: 'owner',
            expires_in_hours: 24,
          },
        ],
        priority: 0,
        cooldown_seconds: 300,
        is_active: true,
        rule_key: null,
        allow_customer_override: true,
        trigger_count: 0,
        last_triggered_at: null,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });
      expect(
        (await t.http().get(`/v1/rules/${res.body.id}`).set(a.admin).expect(200)).body,
      ).toEqual(res.body);
    });

    it('updates only the fields sent, re-validating against a new trigger', async () => {
      const r = await rule();
      const renamed = await t
        .http()
        .patch(`/v1/rules/${r.id}`)
        .set(a.admin)
        .send({ name: 'Renamed', priority: 7, is_active: false })
        .expect(200);
      expect(renamed.body).toMatchObject({
        name: 'Renamed',
        priority: 7,
        is_active: false,
        conditions: valid.conditions,
        cooldown_seconds: 300,
      });
      const moved = await t
        .http()
        .patch(`/v1/rules/${r.id}`)
        .set(a.admin)
        .send({ trigger_event: 'rent.overdue' })
        .expect(422);
      expect(moved.body.detail).toEqual([
        {
          loc: ['body', 'trigger_event'],
          msg: expect.stringContaining('conditions'),
          type: 'value_error',
        },
      ]);
      const both = await t
        .http()
        .patch(`/v1/rules/${r.id}`)
        .set(a.admin)
        .send({
          trigger_event: 'rent.overdue',
          conditions: [{ field: 'days_overdue', operator: 'gte', value: 14 }],
        })
        .expect(200);
      expect(both.body).toMatchObject({
        trigger_event: 'rent.overdue',
        conditions: [{ field: 'days_overdue', operator: 'gte', value: 14 }],
      });
      const bad = await t
        .http()
        .patch(`/v1/rules/${r.id}`)
        .set(a.admin)
        .send({ conditions: [{ field: 'days_overdue', operator: 'contains', value: 'x' }] });
      expect(bad.status).toBe(422);
      expect(bad.body.detail[0].loc).toEqual(['body', 'conditions', 0, 'operator']);
      expect(
        (await t.raw.query('SELECT trigger_event, name FROM rules WHERE id = $1', [r.id])).rows[0],
      ).toEqual({ trigger_event: 'rent.overdue', name: 'Renamed' });
    });

    it('deletes for good (204), then 404', async () => {
      const r = await rule();
      const res = await t.http().delete(`/v1/rules/${r.id}`).set(a.admin).expect(204);
      expect(res.text).toBe('');
      expect(
        (await t.raw.query('SELECT count(*) FROM rules WHERE id = $1', [r.id])).rows[0].count,
      ).toBe('0');
      await t.http().get(`/v1/rules/${r.id}`).set(a.admin).expect(404);
      await t.http().delete(`/v1/rules/${r.id}`).set(a.admin).expect(404);
    });

    it('filters the list by instance and active state', async () => {
      const instance = await a.instance();
      const scoped = await rule({ instance_id: instance, name: 'scoped' });
      const inactive = await rule({ instance_id: instance, is_active: false, name: 'inactive' });
      const all = await t.http().get(`/v1/rules?instance_id=${instance}`).set(a.admin).expect(200);
      expect(all.body.map((r: { id: string }) => r.id).sort()).toEqual(
        [scoped.id, inactive.id].sort(),
      );
      const active = await t
        .http()
        .get(`/v1/rules?instance_id=${instance}&active_only=true`)
        .set(a.admin)
        .expect(200);
      expect(active.body.map((r: { id: string }) => r.id)).toEqual([scoped.id]);
    });
  });

  describe('validation', () => {
    it.each<[object, (string | number)[], string]>([
      [{ name: '' }, ['body', 'name'], 'string_too_short'],
      [{ name: 'x'.repeat(201) }, ['body', 'name'], 'string_too_long'],
      [{ name: undefined }, ['body', 'name'], 'missing'],
      [{ cooldown_seconds: -1 }, ['body', 'cooldown_seconds'], 'greater_than_equal'],
      [{ cooldown_seconds: 2 ** 31 }, ['body', 'cooldown_seconds'], 'less_than_equal'],
      [{ priority: 1.5 }, ['body', 'priority'], 'int_type'],
      [{ customer_id: 'x' }, ['body', 'customer_id'], 'uuid_parsing'],
      [{ trigger_event: 'lottery.won' }, ['body', 'trigger_event'], 'enum'],
      [{ actions: [] }, ['body', 'actions'], 'too_short'],
      [{ actions: undefined }, ['body', 'actions'], 'missing'],
      [{ actions: [{ type: 'notify', to: 'ops' }] }, ['body', 'actions', 0, 'message'], 'missing'],
      [
        { actions: [{ type: 'require_approval', skill_slug: 'payments', action: 'nope' }] },
        ['body', 'actions', 0, 'action'],
        'enum',
      ],
      [
        { conditions: [{ field: 'amount', operator: 'gt', value: '500' }] },
        ['body', 'conditions', 0, 'value'],
        'value_error',
      ],
      [
        {
          conditions: [valid.conditions[0], { field: 'amount', operator: 'starts_with', value: 5 }],
        },
        ['body', 'conditions', 1, 'operator'],
        'enum',
      ],
      [
        { conditions: [{ field: 'colour', operator: 'eq', value: 'red' }] },
        ['body', 'conditions', 0, 'field'],
        'enum',
      ],
      [{ conditions: 'all' }, ['body', 'conditions'], 'list_type'],
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
    ])('refuses %j with 422 at %j, writing nothing', async (override, loc, type) => {
      const before = await count();
      const res = await create(override).expect(422);
      expect(res.body.detail).toEqual([{ loc, msg: expect.any(String), type }]);
      expect(await count()).toBe(before);
    });

    it('reports condition and action errors together', async () => {
      const res = await create({
        conditions: [{ field: 'amount', operator: 'gt', value: 'x' }],
        actions: [{ type: 'nope' }],
      }).expect(422);
      expect(res.body.detail.map((e: { loc: unknown[] }) => e.loc)).toEqual([
        ['body', 'conditions', 0, 'value'],
        ['body', 'actions', 0, 'type'],
      ]);
    });
  });

  it('documents the eight routes under "Rules"; the catalogs need no credential', async () => {
    const doc = (await t.http().get('/openapi.json').expect(200)).body;
    const ops = Object.entries(
      doc.paths as Record<
        string,
        Record<string, { summary: string; tags: string[]; security?: unknown[] }>
      >,
    ).flatMap(([path, item]) => Object.values(item).map((op) => ({ path, ...op })));
    const rules = ops.filter((op) => op.tags.includes('Rules'));
    expect(rules.map((op) => op.summary).sort()).toEqual(
      [
        'List Rules',
        'Create Rule',
        'List Replayable Services',
        'List Trigger Types',
        'Get Rule',
        'Update Rule',
        'Delete Rule',
        'Test Rule',
      ].sort(),
    );
    for (const op of rules.filter(
      (o) => o.path.endsWith('trigger-types') || o.path.endsWith('replayable-services'),
    )) {
      expect(op.security ?? []).toEqual([]);
    }
    expect(doc.components.schemas.CreateRuleDto.properties.cooldown_seconds).toMatchObject({
      minimum: 0,
      default: 300,
    });
  });
});
