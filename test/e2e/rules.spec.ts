import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

describe('rules', () => {
  let t: TestApp;
  let a: TenantSession;
  let c1: string;
  let c2: string;

  beforeAll(async () => {
    t = await startTestApp();
    a = await TenantSession.create(t, 'A');
    c1 = await a.customer('One');
    c2 = await a.customer('Two');
  });
  afterAll(() => t.close());

  const valid = {
    name: 'Big payments need the owner',
    trigger_event: 'skill.invoked',
    conditions: [
      { field: 'skill_slug', operator: 'eq', value: 'payments' },
      { field: 'amount', operator: 'gt', value: 500 },
    ],
    actions: [
      {
        type: 'require_approval',
        skill_slug: 'payments',
        action: 'pay_contractor',
        approver_role: 'owner',
      },
    ],
  };
  const create = (body: object, headers = a.admin) =>
    t
      .http()
      .post('/v1/rules')
      .set(headers)
      .send({ ...valid, ...body });
  const rule = async (body: object = {}) => (await create(body).expect(201)).body;
  const count = async () => Number((await t.raw.query('SELECT count(*) FROM rules')).rows[0].count);

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

  describe('test (dry run)', () => {
    it('evaluates each condition, executes nothing and counts nothing', async () => {
      const r = await rule();
      const met = await t
        .http()
        .post(`/v1/rules/${r.id}/test`)
        .set(a.admin)
        .send({ payload: { skill_slug: 'Payments', amount: 750 } })
        .expect(200);
      expect(met.body).toEqual({
        rule_id: r.id,
        rule_name: r.name,
        all_conditions_met: true,
        condition_results: [
          {
            field: 'skill_slug',
            operator: 'eq',
            expected: 'payments',
            actual: 'Payments',
            passed: true,
          },
          { field: 'amount', operator: 'gt', expected: 500, actual: 750, passed: true },
        ],
        actions_that_would_fire: r.actions,
      });
      const missed = await t
        .http()
        .post(`/v1/rules/${r.id}/test`)
        .set(a.admin)
        .send({ payload: { amount: 100 } })
        .expect(200);
      expect(missed.body).toMatchObject({ all_conditions_met: false, actions_that_would_fire: [] });
      expect(missed.body.condition_results.map((c: { passed: boolean }) => c.passed)).toEqual([
        false,
        false,
      ]);
      expect(
        (
          await t.raw.query('SELECT trigger_count, last_triggered_at FROM rules WHERE id = $1', [
            r.id,
          ])
        ).rows[0],
      ).toEqual({ trigger_count: 0, last_triggered_at: null });
      expect((await t.raw.query('SELECT count(*) FROM workflows')).rows[0].count).toBe('0');
    });

    it('matches every payload when a rule has no conditions', async () => {
      const r = await rule({
        conditions: [],
        actions: [{ type: 'block', reason: 'Frozen account' }],
      });
      const res = await t
        .http()
        .post(`/v1/rules/${r.id}/test`)
        .set(a.admin)
        .send({ payload: {} })
        .expect(200);
      expect(res.body).toMatchObject({
        all_conditions_met: true,
        condition_results: [],
        actions_that_would_fire: [{ type: 'block', reason: 'Frozen account' }],
      });
    });

    it('needs a payload object', async () => {
      const r = await rule();
      expect(
        (await t.http().post(`/v1/rules/${r.id}/test`).set(a.admin).send({})).body.detail[0],
      ).toMatchObject({ loc: ['body', 'payload'], type: 'missing' });
      expect(
        (await t.http().post(`/v1/rules/${r.id}/test`).set(a.admin).send({ payload: [] })).status,
      ).toBe(422);
    });
  });

  describe('visibility and writes', () => {
    let tenantDefault: string;
    let ofC1: string;
    let ofC2: string;

    beforeAll(async () => {
      tenantDefault = (await rule({ name: 'default' })).id;
      ofC1 = (await rule({ name: 'c1', customer_id: c1 })).id;
      ofC2 = (await rule({ name: 'c2', customer_id: c2 })).id;
    });

    const ids = (body: { id: string }[]) => body.map((r) => r.id);

    it('tenant admin reads and writes everything', async () => {
      const list = (await t.http().get('/v1/rules').set(a.admin).expect(200)).body;
      expect(ids(list)).toEqual(expect.arrayContaining([tenantDefault, ofC1, ofC2]));
      for (const id of [tenantDefault, ofC1, ofC2]) {
        await t.http().get(`/v1/rules/${id}`).set(a.admin).expect(200);
        await t.http().patch(`/v1/rules/${id}`).set(a.admin).send({ priority: 1 }).expect(200);
        await t.http().post(`/v1/rules/${id}/test`).set(a.admin).send({ payload: {} }).expect(200);
      }
      await t.http().patch(`/v1/rules/${ofC1}`).set(a.admin).send({ customer_id: c2 }).expect(200);
      await t.http().patch(`/v1/rules/${ofC1}`).set(a.admin).send({ customer_id: c1 }).expect(200);
    });

    it('customer admin of c1: reads own and defaults, writes only its own customer', async () => {
      const h = a.customerAdmin(c1);
      const list = ids((await t.http().get('/v1/rules').set(h).expect(200)).body);
      expect(list).toEqual(expect.arrayContaining([tenantDefault, ofC1]));
      expect(list).not.toContain(ofC2);
      await t.http().get(`/v1/rules/${tenantDefault}`).set(h).expect(200);
      await t.http().get(`/v1/rules/${ofC1}`).set(h).expect(200);
      await t.http().get(`/v1/rules/${ofC2}`).set(h).expect(403);

      const mine = (await create({ customer_id: c1, name: 'mine' }, h).expect(201)).body.id;
      await create({ customer_id: null }, h).expect(403);
      await create({}, h).expect(403);
      await create({ customer_id: c2 }, h).expect(403);
      await t.http().patch(`/v1/rules/${mine}`).set(h).send({ name: 'mine too' }).expect(200);
      await t.http().patch(`/v1/rules/${mine}`).set(h).send({ customer_id: c2 }).expect(403);
      await t.http().patch(`/v1/rules/${mine}`).set(h).send({ customer_id: null }).expect(403);
      await t.http().post(`/v1/rules/${mine}/test`).set(h).send({ payload: {} }).expect(200);
      for (const id of [tenantDefault, ofC2]) {
        await t.http().patch(`/v1/rules/${id}`).set(h).send({ name: 'hijack' }).expect(403);
        await t.http().post(`/v1/rules/${id}/test`).set(h).send({ payload: {} }).expect(403);
        await t.http().delete(`/v1/rules/${id}`).set(h).expect(403);
      }
      await t.http().delete(`/v1/rules/${mine}`).set(h).expect(204);
      const names = (
        await t.raw.query('SELECT name FROM rules WHERE id = ANY($1)', [[tenantDefault, ofC2]])
      ).rows.map((r) => r.name);
      expect(names).not.toContain('hijack');
    });

    it('customer admin of c2 is the mirror image', async () => {
      const h = a.customerAdmin(c2);
      await t.http().get(`/v1/rules/${ofC1}`).set(h).expect(403);
      await t.http().get(`/v1/rules/${ofC2}`).set(h).expect(200);
      await t.http().patch(`/v1/rules/${ofC1}`).set(h).send({ name: 'x' }).expect(403);
    });

    it('members read own and defaults, and write nothing', async () => {
      for (const h of [a.member(c1), (await a.apiKey('member', c1)).headers]) {
        const list = ids((await t.http().get('/v1/rules').set(h).expect(200)).body);
        expect(list).toEqual(expect.arrayContaining([tenantDefault, ofC1]));
        expect(list).not.toContain(ofC2);
        await t.http().get(`/v1/rules/${ofC2}`).set(h).expect(403);
        await create({ customer_id: c1 }, h).expect(403);
        await t.http().patch(`/v1/rules/${ofC1}`).set(h).send({ name: 'x' }).expect(403);
        await t.http().delete(`/v1/rules/${ofC1}`).set(h).expect(403);
        await t.http().post(`/v1/rules/${ofC1}/test`).set(h).send({ payload: {} }).expect(403);
      }
      const tenantMember = ids((await t.http().get('/v1/rules').set(a.member()).expect(200)).body);
      expect(tenantMember).toContain(tenantDefault);
      expect(tenantMember).not.toContain(ofC1);
    });

    it('another tenant sees none of it (404) and changes nothing', async () => {
      const other = await TenantSession.create(t, 'B');
      expect((await t.http().get('/v1/rules').set(other.admin).expect(200)).body).toEqual([]);
      for (const id of [tenantDefault, ofC1]) {
        await t.http().get(`/v1/rules/${id}`).set(other.admin).expect(404);
        await t.http().patch(`/v1/rules/${id}`).set(other.admin).send({ name: 'x' }).expect(404);
        await t
          .http()
          .post(`/v1/rules/${id}/test`)
          .set(other.admin)
          .send({ payload: {} })
          .expect(404);
        await t.http().delete(`/v1/rules/${id}`).set(other.admin).expect(404);
      }
      await t
        .http()
        .post('/v1/rules')
        .set(other.admin)
        .send({ ...valid, customer_id: c1 })
        .expect(422);
      expect(
        (
          await t.raw.query('SELECT count(*) FROM rules WHERE id = ANY($1)', [
            [tenantDefault, ofC1],
          ])
        ).rows[0].count,
      ).toBe('2');
    });

    it('requires a credential for everything but the catalogs', async () => {
      await t.http().get('/v1/rules').expect(401);
      await t.http().get(`/v1/rules/${ofC1}`).expect(401);
      await t.http().post('/v1/rules').send(valid).expect(401);
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
