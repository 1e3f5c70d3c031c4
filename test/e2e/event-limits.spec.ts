import { QueryRunner } from 'typeorm';
import { IdempotencyPerInstance1732407480000 as Migration } from '../../migrations/1732407480000-idempotency-per-instance';
import { RuleFiringRepository } from '../../src/rules/engine/rule-firing.repository';
import { RuleCache } from '../../src/rules/engine/rule-cache';
import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

const MAX_WORKFLOWS = 20;
const MAX_APPROVALS = 20;

describe('event limits', () => {
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

  const rule = async (body: object, admin = a.admin) =>
    (
      await t
        .http()
        .post('/v1/rules')
        .set(admin)
        .send({ name: 'r', trigger_event: 'skill.invoked', cooldown_seconds: 0, ...body })
        .expect(201)
    ).body;
  const fire = (customer: string, extra: object = {}, headers = runtime, inst = instance) =>
    t
      .http()
      .post(`/internal/v1/instances/${inst}/events`)
      .set(headers)
      .send({ event: 'skill.invoked', customer_id: customer, payload: { amount: 1 }, ...extra });
  const times = <T>(n: number, x: T) => Array.from({ length: n }, () => x);
  const workflows = (n: number) => times(n, { type: 'create_workflow', workflow_type: 'lead' });
  const approvals = (n: number) =>
    times(n, { type: 'require_approval', skill_slug: 'payments', action: 'pay_contractor' });
  const countOf = async (table: string, customer: string) =>
    Number(
      (await t.raw.query(`SELECT count(*) FROM ${table} WHERE customer_id = $1`, [customer]))
        .rows[0].count,
    );
  /** Everything an event could have written for this customer. */
  const written = async (customer: string) => ({
    workflows: await countOf('workflows', customer),
    approvals: await countOf('approvals', customer),
    cooldowns: await countOf('rule_cooldowns', customer),
    fired: Number(
      (
        await t.raw.query(
          'SELECT coalesce(sum(trigger_count), 0) AS n FROM rules WHERE customer_id = $1',
          [customer],
        )
      ).rows[0].n,
    ),
  });
  const nothing = { workflows: 0, approvals: 0, cooldowns: 0, fired: 0 };

  it('takes a message longer than a rule value may be, and still refuses a wrong type', async () => {
    const customer = await a.customer();
    const body = 'word '.repeat(2_000); // 10,000 characters: rules compare at most 1,000
    const sent = (payload: object) =>
      t
        .http()
        .post(`/internal/v1/instances/${instance}/events`)
        .set(runtime)
        .send({ event: 'message.received', customer_id: customer, payload });
    expect((await sent({ body })).status).toBe(200);
    const { rows } = await t.raw.query(
      `SELECT data->>'body' AS body FROM events
        WHERE customer_id = $1 AND type = 'message.received'`,
      [customer],
    );
    expect(rows).toEqual([{ body }]);
    const wrong = await sent({ body: 12 });
    expect(wrong.status).toBe(422);
    expect(wrong.body.detail).toEqual([
      { loc: ['body', 'payload', 'body'], msg: 'body must be a string', type: 'value_error' },
    ]);
  });

  it('refuses an event whose rules would create more than 20 workflows, and writes nothing', async () => {
    const c = await a.customer();
    // Ten rules of ten create_workflow actions each: 100 workflows from one event.
    for (let i = 0; i < 10; i++)
      await rule({ customer_id: c, cooldown_seconds: 60, actions: workflows(10) });
    const res = await fire(c, { idempotency_key: 'too-many' });
    expect(res.status).toBe(422);
    expect(res.body.detail).toEqual([
      { loc: ['body', 'event'], msg: expect.stringContaining('20 workflows'), type: 'value_error' },
    ]);
    expect(res.body.detail[0].msg).toContain('100 workflows');
    expect(await written(c)).toEqual(nothing);
    expect(
      (await t.raw.query(`SELECT count(*) FROM event_receipts WHERE idempotency_key = 'too-many'`))
        .rows[0].count,
    ).toBe('0');
  });

  it('creates exactly 20 workflows and 20 approvals from one event, and refuses the 21st approval', async () => {
    const c = await a.customer();
    for (let i = 0; i < 2; i++) {
      await rule({ customer_id: c, actions: workflows(10) });
      await rule({ customer_id: c, actions: approvals(10) });
    }
    const res = await fire(c).expect(200);
    expect(res.body.workflows).toHaveLength(MAX_WORKFLOWS);
    expect(res.body.approvals).toHaveLength(MAX_APPROVALS);
    expect(await written(c)).toMatchObject({ workflows: 20, approvals: 20, fired: 4 });

    const d = await a.customer();
    await rule({ customer_id: d, actions: approvals(10) });
    await rule({ customer_id: d, actions: approvals(10) });
    await rule({ customer_id: d, actions: approvals(1) });
    const over = await fire(d);
    expect(over.status).toBe(422);
    expect(over.body.detail[0].msg).toContain('21 approvals');
    expect(await written(d)).toEqual(nothing);

    // Only the rules that fire count: two held back by their cooldown create nothing.
    const e = await a.customer();
    await rule({ customer_id: e, cooldown_seconds: 3600, actions: workflows(10) });
    await rule({ customer_id: e, cooldown_seconds: 3600, actions: workflows(10) });
    expect((await fire(e).expect(200)).body.workflows).toHaveLength(20);
    await rule({ customer_id: e, cooldown_seconds: 3600, actions: workflows(10) });
    const third = await fire(e).expect(200);
    expect(third.body.workflows).toHaveLength(10);
    expect(third.body.suppressed).toHaveLength(2);
  });

  it('gives instance 2 its own answer to an event idempotency_key instance 1 used', async () => {
    const other = await a.instance('Two');
    const otherRuntime = (await a.proxyKey(other)).headers;
    const c = await a.customer();
    const r = await rule({ customer_id: c, actions: workflows(1) });
    const body = { idempotency_key: 'shared-key' };
    const first = (await fire(c, body).expect(200)).body;
    const second = (await fire(c, body, otherRuntime, other).expect(200)).body;
    expect(second.workflows[0].instance_id).toBe(other);
    expect(second.workflows[0].id).not.toBe(first.workflows[0].id);
    // Each instance's repeat is its own first answer, and nothing fires again.
    expect((await fire(c, body).expect(200)).body).toEqual(first);
    expect((await fire(c, body, otherRuntime, other).expect(200)).body).toEqual(second);
    const stored = await t.raw.query('SELECT trigger_count FROM rules WHERE id = $1', [r.id]);
    expect(stored.rows[0].trigger_count).toBe(2);
    // Instance 2 still reads nothing of instance 1's.
    await t
      .http()
      .get(`/internal/v1/instances/${other}/workflows/${first.workflows[0].id}`)
      .set(otherRuntime)
      .expect(404);
  });

  describe('rule cache', () => {
    const tenantWithRules = async (name: string, rules: number) => {
      const z = await TenantSession.create(t, name);
      const customer = await z.customer();
      const inst = await z.instance();
      const headers = (await z.proxyKey(inst)).headers;
      const template = await rule({ actions: [{ type: 'block', reason: 'x' }] }, z.admin);
      // ~16 kB of conditions each, copied past the API to save time
      const big = [{ field: 'requested_by', operator: 'in', value: times(16, 'x'.repeat(1000)) }];
      await t.raw.query(
        `INSERT INTO rules (tenant_id, name, trigger_event, conditions, actions)
         SELECT tenant_id, name, trigger_event, $2, actions FROM rules, generate_series(2, $3::int)
          WHERE id = $1`,
        [template.id, JSON.stringify(big), rules],
      );
      return { id: z.tenantId, event: () => fire(customer, {}, headers, inst).expect(200) };
    };

    it('drops the least recently used tenants past its byte budget', async () => {
      const cache = t.app.get(RuleCache);
      const loads = jest.spyOn(RuleFiringRepository.prototype, 'activeRules');
      const saved = cache.budgetBytes;
      cache.budgetBytes = 1.5 * 2 ** 20; // two tenants of 40 large rules, not three
      try {
        const [x, y, z] = [
          await tenantWithRules('X', 40),
          await tenantWithRules('Y', 40),
          await tenantWithRules('Z', 40),
        ];
        const loadsOf = (id: string) => loads.mock.calls.filter(([tenant]) => tenant === id).length;
        await x.event();
        await y.event();
        await x.event(); // X is now the more recent of the two
        await z.event(); // over budget: Y goes, X stays
        expect(cache.bytes).toBeLessThanOrEqual(cache.budgetBytes);
        await x.event();
        await y.event();
        expect([loadsOf(x.id), loadsOf(y.id), loadsOf(z.id)]).toEqual([1, 2, 1]);
      } finally {
        cache.budgetBytes = saved;
        loads.mockRestore();
      }
    });

    it('reads a tenant’s rules once for a burst of events after a change', async () => {
      const w = await tenantWithRules('Burst', 100);
      const { activeRules: read } = RuleFiringRepository.prototype as {
        activeRules: (
          this: RuleFiringRepository,
          tenantId: string,
        ) => ReturnType<RuleFiringRepository['activeRules']>;
      };
      // A slow read, so the whole burst arrives while the first one is under way.
      const loads = jest
        .spyOn(RuleFiringRepository.prototype, 'activeRules')
        .mockImplementation(async function (this: RuleFiringRepository, tenantId: string) {
          await new Promise((resolve) => setTimeout(resolve, 300));
          return read.call(this, tenantId);
        });
      try {
        await Promise.all(times(20, null).map(() => w.event()));
        expect(loads.mock.calls.filter(([tenant]) => tenant === w.id)).toHaveLength(1);
      } finally {
        loads.mockRestore();
      }
    });
  });

  it('migrates event receipts back to per tenant and forth again', async () => {
    const c = await a.customer();
    await rule({ customer_id: c, actions: workflows(1) });
    const other = await a.instance('Three');
    const otherRuntime = (await a.proxyKey(other)).headers;
    await fire(c, { idempotency_key: 'both' }).expect(200);
    await fire(c, { idempotency_key: 'both' }, otherRuntime, other).expect(200);
    const client = await t.raw.connect();
    const q = { query: (sql: string) => client.query(sql) } as unknown as QueryRunner;
    const receipts = async () =>
      (
        await client.query(
          `SELECT * FROM event_receipts WHERE idempotency_key = 'both' ORDER BY created_at`,
        )
      ).rows;
    try {
      await client.query('BEGIN');
      await new Migration().down(q);
      expect(await receipts()).toHaveLength(1); // the earliest use keeps the key
      expect((await receipts())[0]).not.toHaveProperty('instance_id');
      await new Migration().up(q);
      // What it created says whose it was.
      expect((await receipts()).map((r) => r.instance_id)).toEqual([instance]);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});
