import { TenantSession } from '../helpers/factories';
import { RuleWorld, VALID_RULE as valid, ruleCalls, ruleWorld } from '../helpers/rule-world';

describe('rules', () => {
  let world: RuleWorld;
  let { t, a, c1, c2 } = {} as RuleWorld;

  beforeAll(async () => {
    world = await ruleWorld();
    ({ t, a, c1, c2 } = world);
  });
  afterAll(() => world.t.close());

  const { create, rule } = ruleCalls(() => world);

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
});
