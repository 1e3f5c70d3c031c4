import { ApprovalSweeper } from '../../src/approvals/approval-sweeper';
import { intentHash } from '../../src/approvals/intent';
import { TenantSession } from '../helpers/factories';
import {
  ApprovalWorld,
  INTENT as intent,
  approvalCalls,
  approvalWorld,
  closeApprovalWorld,
} from '../helpers/approval-world';

describe('approvals', () => {
  let world: ApprovalWorld;
  let { t, a, customer, otherCustomer, person, instance, runtime, base } = {} as ApprovalWorld;

  beforeAll(async () => {
    world = await approvalWorld();
    ({ t, a, customer, otherCustomer, person, instance, runtime, base } = world);
  });
  afterAll(() => closeApprovalWorld(world));

  const { body, request, pending, resolve, row, outbox } = approvalCalls(() => world);

  describe('request', () => {
    it('creates a pending approval with a readable reference and the intent hash', async () => {
      const res = await request({ rule_id: null, notify_channel: 'whatsapp' }).expect(201);
      expect(res.body).toMatchObject({
        approval_ref: expect.stringMatching(/^APR-[A-HJ-NP-Z2-9]{8}$/),
        status: 'pending',
        customer_id: customer,
        instance_id: instance,
        skill_slug: 'payments',
        action: 'pay_contractor',
        serialized_intent: intent,
        intent_hash: intentHash('payments', 'pay_contractor', intent),
        approver_role: 'customer',
        approver_person_id: null,
        notify_channel: 'whatsapp',
        replay_status: null,
        replay_attempts: 0,
      });
      expect(res.body).not.toHaveProperty('request_hash');
      const hours =
        (new Date(res.body.expires_at).getTime() - new Date(res.body.created_at).getTime()) /
        3_600_000;
      expect(hours).toBeCloseTo(24, 3);
    });

    it.each<[object, (string | number)[], string]>([
      [{ action: 'x'.repeat(101) }, ['body', 'action'], 'string_too_long'],
      [{ skill_slug: 'crypto' }, ['body', 'skill_slug'], 'enum'],
      [{ action: 'serve_notice' }, ['body', 'action'], 'enum'],
      [{ approver_role: 'admin' }, ['body', 'approver_role'], 'enum'],
      [{ expires_in_hours: 0 }, ['body', 'expires_in_hours'], 'greater_than_equal'],
      [{ expires_in_hours: 169 }, ['body', 'expires_in_hours'], 'less_than_equal'],
      [{ serialized_intent: undefined }, ['body', 'serialized_intent'], 'missing'],
      [{ serialized_intent: [1] }, ['body', 'serialized_intent'], 'dict_type'],
      [
        { customer_id: '00000000-0000-4000-8000-000000000000' },
        ['body', 'customer_id'],
        'value_error',
      ],
      [{ rule_id: '00000000-0000-4000-8000-000000000000' }, ['body', 'rule_id'], 'value_error'],
      // Checked by the insert's keys: the customer's before the rule's, and before the person.
      [
        {
          customer_id: '00000000-0000-4000-8000-000000000000',
          rule_id: '00000000-0000-4000-8000-000000000000',
          approver_person_id: '00000000-0000-4000-8000-000000000000',
        },
        ['body', 'customer_id'],
        'value_error',
      ],
      [
        {
          rule_id: '00000000-0000-4000-8000-000000000000',
          approver_person_id: '00000000-0000-4000-8000-000000000000',
        },
        ['body', 'rule_id'],
        'value_error',
      ],
      [
        { approver_person_id: '00000000-0000-4000-8000-000000000000' },
        ['body', 'approver_person_id'],
        'value_error',
      ],
    ])('refuses %j with 422 at %j', async (extra, loc, type) => {
      const before = (await t.raw.query('SELECT count(*) FROM approvals')).rows[0].count;
      const res = await request(extra).expect(422);
      expect(res.body.detail).toEqual([{ loc, msg: expect.any(String), type }]);
      expect((await t.raw.query('SELECT count(*) FROM approvals')).rows[0].count).toBe(before);
    });
  });

  describe('idempotency', () => {
    it('returns the first approval for the same key and request, 409 for another request', async () => {
      const first = await request({ idempotency_key: 'idem-1' }).expect(201);
      const again = await request({ idempotency_key: 'idem-1' }).expect(200);
      expect(again.body.id).toBe(first.body.id);
      const reordered = await request({
        idempotency_key: 'idem-1',
        serialized_intent: { currency: 'GBP', amount: 750, contractor_id: 'C-42' },
      }).expect(200);
      expect(reordered.body.id).toBe(first.body.id);
      const different = await request({
        idempotency_key: 'idem-1',
        serialized_intent: { ...intent, amount: 751 },
      }).expect(409);
      expect(different.body.detail).toMatch(/idempotency_key/);
    });

    it('creates exactly one approval from 50 concurrent identical requests', async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, () => request({ idempotency_key: 'burst' })),
      );
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      expect(results.filter((r) => r.status === 200)).toHaveLength(49);
      expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
      expect(
        (await t.raw.query(`SELECT count(*) FROM approvals WHERE idempotency_key = 'burst'`))
          .rows[0].count,
      ).toBe('1');
    });
  });

  describe('resolve', () => {
    it("judges expiry by the database's clock, not the replica's", async () => {
      const p = await pending();
      await t.raw.query(
        `UPDATE approvals SET expires_at = now() + interval '1 minute' WHERE id = $1`,
        [p.id],
      );
      // This replica's clock an hour ahead: by its own reckoning the approval has expired.
      const ahead = Date.now() + 3_600_000;
      const clock = jest.spyOn(Date, 'now').mockImplementation(() => ahead);
      let status: number;
      try {
        status = (await resolve(p.approval_ref)).status;
      } finally {
        clock.mockRestore();
      }
      expect(status).toBe(200);
      expect((await row(p.approval_ref)).status).toBe('approved');
    });

    it('approves: one outbox row in the same transaction', async () => {
      const p = await pending();
      const res = await resolve(p.approval_ref, {
        resolved_by: 'Ada',
        resolution_channel: 'whatsapp',
      }).expect(200);
      expect(res.body).toMatchObject({
        status: 'approved',
        resolved_by: 'Ada',
        resolver_role: 'customer',
        resolved_at: expect.any(String),
        replay_status: 'pending',
      });
      const rows = await outbox(p.id);
      expect(rows).toHaveLength(1);
      expect(rows[0].payload).toMatchObject({
        approval_ref: p.approval_ref,
        intent_hash: p.intent_hash,
        serialized_intent: intent,
        outbox_id: rows[0].id,
      });
    });

    it('rejects: no outbox row', async () => {
      const p = await pending();
      await resolve(p.approval_ref, { action: 'reject' }).expect(200);
      expect((await row(p.approval_ref)).status).toBe('rejected');
      expect(await outbox(p.id)).toEqual([]);
    });

    it('refuses in order: 404, 409, 410 (and expires it), 403 PIN, 403 role, 403 person', async () => {
      await resolve('APR-NOSUCH22').expect(404);

      const done = await pending();
      await resolve(done.approval_ref, { action: 'reject' }).expect(200);
      const again = await resolve(done.approval_ref).expect(409);
      expect(again.body.detail).toContain('rejected');

      const late = await pending();
      await t.raw.query(
        `UPDATE approvals SET expires_at = now() - interval '1 minute' WHERE id = $1`,
        [late.id],
      );
      await resolve(late.approval_ref, { pin_verified: false }).expect(410);
      expect((await row(late.approval_ref)).status).toBe('expired');
      await resolve(late.approval_ref).expect(409);

      const guarded = await pending({ approver_role: 'owner', approver_person_id: person });
      await resolve(guarded.approval_ref, {
        pin_verified: false,
        resolver_role: 'customer',
      }).expect(403);
      await resolve(guarded.approval_ref, { resolver_role: 'customer' }).expect(403);
      await resolve(guarded.approval_ref, { resolver_role: 'owner' }).expect(403);
      await resolve(guarded.approval_ref, {
        resolver_role: 'owner',
        resolver_person_id: otherCustomer,
      }).expect(403);
      expect(await row(guarded.approval_ref)).toMatchObject({
        status: 'pending',
        resolved_at: null,
      });
      expect(await outbox(guarded.id)).toEqual([]);
      await resolve(guarded.approval_ref, {
        resolver_role: 'owner',
        resolver_person_id: person,
      }).expect(200);
    });

    it('validates its body (pin_verified has no default)', async () => {
      const p = await pending();
      const res = await t
        .http()
        .post(`${base}/resolve`)
        .set(runtime)
        .send({ approval_ref: p.approval_ref, action: 'approve', resolver_role: 'customer' })
        .expect(422);
      expect(res.body.detail).toEqual([
        { loc: ['body', 'pin_verified'], msg: 'Field required', type: 'missing' },
      ]);
      await resolve(p.approval_ref, { action: 'maybe' }).expect(422);
      await resolve(p.approval_ref, { pin_verified: 'yes' }).expect(422);
      await resolve(p.approval_ref, { resolver_role: 'admin' }).expect(422);
      expect((await row(p.approval_ref)).status).toBe('pending');
    });

    it('lets exactly one of 20 concurrent resolutions win, with one outbox row', async () => {
      const p = await pending();
      const results = await Promise.all(Array.from({ length: 20 }, () => resolve(p.approval_ref)));
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 409)).toHaveLength(19);
      expect(await outbox(p.id)).toHaveLength(1);
    });
  });

  describe('pending list and expiry', () => {
    it('lists pending approvals, not expired ones, and the sweeper marks them expired', async () => {
      const c = await a.customer();
      const live = (await request({ customer_id: c }).expect(201)).body;
      const stale = (await request({ customer_id: c }).expect(201)).body;
      await t.raw.query(
        `UPDATE approvals SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [stale.id],
      );
      const res = await t.http().get(`${base}/pending?customer_id=${c}`).set(runtime).expect(200);
      expect(res.body).toEqual({ approvals: [expect.objectContaining({ id: live.id })], count: 1 });
      await t.app.get(ApprovalSweeper).runOnce();
      expect((await row(stale.approval_ref)).status).toBe('expired');
      expect((await row(live.approval_ref)).status).toBe('pending');
      await t.http().get(`${base}/pending`).set(runtime).expect(422);
    });

    it('lists at most `limit` (default 100, up to 200), newest first, intents as sent', async () => {
      const c = await a.customer();
      const made: string[] = [];
      for (let i = 0; i < 3; i++) {
        const intentOf = { amount: i, currency: 'GBP', nested: { list: [1.5, 'x', null] } };
        made.push(
          (await request({ customer_id: c, serialized_intent: intentOf }).expect(201)).body.id,
        );
      }
      const list = (query: string) =>
        t.http().get(`${base}/pending?customer_id=${c}${query}`).set(runtime);
      const two = await list('&limit=2').expect(200);
      expect(two.body.approvals.map((x: { id: string }) => x.id)).toEqual([made[2], made[1]]);
      expect(two.body.approvals[0].serialized_intent).toEqual({
        amount: 2,
        currency: 'GBP',
        nested: { list: [1.5, 'x', null] },
      });
      expect((await list('').expect(200)).body.count).toBe(3);
      for (const limit of ['0', '201', 'x']) {
        const refused = await list(`&limit=${limit}`).expect(422);
        expect(refused.body.detail[0].loc).toEqual(['query', 'limit']);
      }
      const doc = (await t.http().get('/openapi.json').expect(200)).body;
      const params =
        doc.paths['/internal/v1/instances/{instance_id}/approvals/pending'].get.parameters;
      expect(params.find((q: { name: string }) => q.name === 'limit').schema).toMatchObject({
        minimum: 1,
        maximum: 200,
        default: 100,
      });
    });
  });

  describe('dashboard list', () => {
    it('pages with total, limit and offset, filters, and confines customer-scoped callers', async () => {
      const c = await a.customer();
      for (let i = 0; i < 3; i++) await request({ customer_id: c }).expect(201);
      const res = await t
        .http()
        .get(`/v1/approvals?customer_id=${c}&limit=2`)
        .set(a.admin)
        .expect(200);
      expect(res.body).toMatchObject({ total: 3, limit: 2, offset: 0 });
      expect(res.body.approvals).toHaveLength(2);
      expect(
        (await t.http().get(`/v1/approvals?customer_id=${c}&offset=2`).set(a.admin).expect(200))
          .body.approvals,
      ).toHaveLength(1);
      expect(
        (
          await t
            .http()
            .get(`/v1/approvals?customer_id=${c}&status=approved`)
            .set(a.admin)
            .expect(200)
        ).body.total,
      ).toBe(0);
      const scoped = await t.http().get('/v1/approvals').set(a.customerAdmin(c)).expect(200);
      expect(scoped.body.total).toBe(3);
      expect((await t.http().get('/v1/approvals').set(a.member(c)).expect(200)).body.total).toBe(3);
      await t
        .http()
        .get(`/v1/approvals?customer_id=${customer}`)
        .set(a.customerAdmin(c))
        .expect(403);
      for (const q of ['limit=0', 'limit=201', 'offset=-1', 'status=done']) {
        expect((await t.http().get(`/v1/approvals?${q}`).set(a.admin)).status).toBe(422);
      }
      await t.http().get('/v1/approvals').expect(401);
    });
  });

  describe('isolation', () => {
    it('keeps other tenants and other instances out', async () => {
      const p = await pending();
      const other = await TenantSession.create(t, 'B');
      const otherInstance = await other.instance();
      const otherKey = (await other.proxyKey(otherInstance)).headers;
      const otherBase = `/internal/v1/instances/${otherInstance}/approvals`;
      await t
        .http()
        .post(`${otherBase}/resolve`)
        .set(otherKey)
        .send({
          approval_ref: p.approval_ref,
          action: 'approve',
          pin_verified: true,
          resolver_role: 'customer',
        })
        .expect(404);
      await t.http().get(`${otherBase}/pending?customer_id=${customer}`).set(otherKey).expect(404);
      const refused = await t.http().post(`${otherBase}/request`).set(otherKey).send(body());
      expect(refused.status).toBe(422);
      expect(refused.body.detail).toEqual([
        { loc: ['body', 'customer_id'], msg: 'Customer not found', type: 'value_error' },
      ]);
      await t.http().get(`${base}/pending?customer_id=${customer}`).set(otherKey).expect(403);
      expect((await t.http().get('/v1/approvals').set(other.admin).expect(200)).body.total).toBe(0);
      expect((await row(p.approval_ref)).status).toBe('pending');
    });
  });

  it('documents the four routes under "Approvals"', async () => {
    const doc = (await t.http().get('/openapi.json').expect(200)).body;
    const summaries = Object.values(
      doc.paths as Record<string, Record<string, { summary: string; tags: string[] }>>,
    )
      .flatMap((item) => Object.values(item))
      .filter((op) => op.tags.includes('Approvals'))
      .map((op) => op.summary)
      .sort();
    expect(summaries).toEqual([
      'Create Approval Request',
      'List Pending Approvals',
      'Resolve Approval',
      'Tenant List Approvals',
    ]);
    expect(doc.components.schemas.CreateApprovalDto.properties.expires_in_hours).toMatchObject({
      minimum: 1,
      maximum: 168,
      default: 24,
    });
  });
});
