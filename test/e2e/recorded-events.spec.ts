import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';
import { Feed, depths, recordingWorld } from '../helpers/recorded';

const INTENT = { contractor_id: 'C-42', amount: 750, currency: 'GBP' };

describe('events recorded by approvals and by the runtime', () => {
  let t: TestApp;
  let a: TenantSession;
  let customer: string;
  let person: string;
  let instance: string;
  let runtime: Record<string, string>;
  let feed: Feed;
  let sibling: string;
  let siblingRuntime: Record<string, string>;
  let siblingFeed: Feed;

  beforeAll(async () => {
    t = await startTestApp();
    ({ a, customer, person, instance, runtime, feed, sibling, siblingRuntime, siblingFeed } =
      await recordingWorld(t));
  });
  afterAll(() => t.close());

  const post = (path: string, body: object, headers = runtime) =>
    t.http().post(path).set(headers).send(body);
  const approvalsOf = (inst: string) => `/internal/v1/instances/${inst}/approvals`;
  const request = (extra: object = {}, inst = instance, headers = runtime) =>
    post(
      `${approvalsOf(inst)}/request`,
      {
        customer_id: customer,
        skill_slug: 'payments',
        action: 'pay_contractor',
        serialized_intent: INTENT,
        ...extra,
      },
      headers,
    );
  const resolve = (ref: string, extra: object = {}) =>
    post(`${approvalsOf(instance)}/resolve`, {
      approval_ref: ref,
      action: 'approve',
      pin_verified: true,
      resolver_role: 'customer',
      ...extra,
    });
  const rule = async (body: object) =>
    (
      await post(
        '/v1/rules',
        { name: 'r', trigger_event: 'skill.invoked', cooldown_seconds: 0, ...body },
        a.admin,
      ).expect(201)
    ).body;
  const report = (c: string, extra: object = {}) =>
    post(`/internal/v1/instances/${instance}/events`, {
      event: 'skill.invoked',
      customer_id: c,
      payload: { skill_slug: 'payments', amount: 5000 },
      ...extra,
    });

  describe('approvals', () => {
    it('records approval.requested once, for the instance and customer, as the route answers', async () => {
      const from = await feed.end();
      const res = await request({ idempotency_key: 'once' }).expect(201);
      // A replay of the same request, and a different one under the same key, record nothing.
      await request({ idempotency_key: 'once' }).expect(200);
      await request({ idempotency_key: 'once', serialized_intent: { amount: 1 } }).expect(409);
      const events = await feed.since(from);
      expect(events).toEqual([
        expect.objectContaining({
          type: 'approval.requested',
          tenant_id: a.tenantId,
          instance_id: instance,
          customer_id: customer,
          caused_by: null,
          data: { approval: res.body },
        }),
      ]);
      expect(await depths(t, [events[0].id])).toEqual({ [events[0].id]: 0 });
    });

    it('records nothing for a refused request', async () => {
      const from = await feed.end();
      await request({ customer_id: '00000000-0000-4000-8000-000000000000' }).expect(422);
      await request({ skill_slug: 'nope' }).expect(422);
      expect(await feed.since(from)).toEqual([]);
    });

    it.each([
      ['approved', 'approve'],
      ['rejected', 'reject'],
    ])('records approval.resolved (%s) as the route answers it', async (decision, action) => {
      const pending = (await request().expect(201)).body;
      const from = await feed.end();
      const res = await resolve(pending.approval_ref, { action }).expect(200);
      expect(await feed.since(from)).toEqual([
        expect.objectContaining({
          type: 'approval.resolved',
          instance_id: instance,
          customer_id: customer,
          caused_by: null,
          data: { approval: res.body, decision },
        }),
      ]);
    });

    it('records nothing for a refused resolution: wrong PIN, role or person, or resolved already', async () => {
      const pending = (await request({ approver_person_id: person }).expect(201)).body;
      const from = await feed.end();
      await resolve(pending.approval_ref, { pin_verified: false }).expect(403);
      await resolve(pending.approval_ref, { resolver_role: 'owner' }).expect(403);
      await resolve(pending.approval_ref, { resolver_person_id: customer }).expect(403);
      await resolve('APR-ZZZZZZZZ').expect(404);
      expect(await feed.since(from)).toEqual([]);
      await resolve(pending.approval_ref, { resolver_person_id: person }).expect(200);
      const resolved = await feed.end();
      await resolve(pending.approval_ref, { resolver_person_id: person }).expect(409);
      expect(await feed.since(resolved)).toEqual([]);
    });

    it('keeps approval.resolved (expired) with the expiry when the resolve route finds it expired', async () => {
      const pending = (await request().expect(201)).body;
      await t.raw.query(
        `UPDATE approvals SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [pending.id],
      );
      const from = await feed.end();
      await resolve(pending.approval_ref).expect(410);
      const events = await feed.since(from);
      expect(events).toEqual([
        expect.objectContaining({
          type: 'approval.resolved',
          instance_id: instance,
          customer_id: customer,
          data: {
            approval: expect.objectContaining({ id: pending.id, status: 'expired' }),
            decision: 'expired',
          },
        }),
      ]);
      await resolve(pending.approval_ref).expect(409);
      expect(await feed.since(events[0].sequence)).toEqual([]);
    });

    it("shows an instance's approval events to it and not to another instance", async () => {
      const from = await siblingFeed.end();
      const mine = (await request().expect(201)).body;
      await resolve(mine.approval_ref).expect(200);
      expect(await siblingFeed.since(from)).toEqual([]);
      const theirs = (await request({}, sibling, siblingRuntime).expect(201)).body;
      expect((await siblingFeed.since(from)).map((e) => [e.type, e.data.approval.id])).toEqual([
        ['approval.requested', theirs.id],
      ]);
      expect((await feed.since(0)).map((e) => e.data.approval?.id)).not.toContain(theirs.id);
    });
  });

  describe('events the runtime reports', () => {
    it('records the event, and what its rules raise names it as their cause, one deeper', async () => {
      const c = await a.customer();
      const asks = await rule({
        customer_id: c,
        actions: [{ type: 'require_approval', skill_slug: 'payments', action: 'pay_contractor' }],
      });
      const tells = await rule({
        customer_id: c,
        actions: [{ type: 'notify', to: 'ops@harbour.example', message: 'Big payment' }],
      });
      await rule({ customer_id: c, actions: [{ type: 'create_workflow', workflow_type: 'lead' }] });
      const from = await feed.end();
      const res = await report(c, { idempotency_key: 'reported' }).expect(200);
      // A repeat of the same event answers as the first did and records nothing.
      await report(c, { idempotency_key: 'reported' }).expect(200);
      const events = await feed.since(from);
      const [reported] = events;
      expect(reported).toEqual(
        expect.objectContaining({
          type: 'skill.invoked',
          instance_id: instance,
          customer_id: c,
          caused_by: null,
          data: { skill_slug: 'payments', amount: 5000 },
        }),
      );
      const caused = { instance_id: instance, customer_id: c, caused_by: reported.id };
      expect(events.slice(1)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            ...caused,
            type: 'approval.requested',
            data: { approval: res.body.approvals[0] },
          }),
          expect.objectContaining({
            ...caused,
            type: 'notification.requested',
            data: {
              to: 'ops@harbour.example',
              message: 'Big payment',
              rule_id: tells.id,
              event_id: reported.id,
            },
          }),
          expect.objectContaining({
            ...caused,
            type: 'workflow.created',
            data: { workflow: res.body.workflows[0] },
          }),
        ]),
      );
      expect(events).toHaveLength(4);
      expect(res.body.approvals[0].rule_id).toBe(asks.id);
      expect(
        await depths(
          t,
          events.map((e) => e.id),
        ),
      ).toEqual({
        [reported.id]: 0,
        [events[1].id]: 1,
        [events[2].id]: 1,
        [events[3].id]: 1,
      });
      // The notify action's outbox message is still written, as before.
      const outbox = await t.raw.query(
        `SELECT payload FROM outbox WHERE tenant_id = $1 AND kind = 'notify'
           AND payload->>'rule_id' = $2`,
        [a.tenantId, tells.id],
      );
      expect(outbox.rows).toHaveLength(1);
      expect(await siblingFeed.since(from)).toEqual([]);
    });

    it('records an event no rule fires for, and nothing for a refused event', async () => {
      const c = await a.customer();
      const from = await feed.end();
      await report(c, { payload: {} }).expect(200);
      await report(c, { event: 'no.such_event' }).expect(422);
      await report('00000000-0000-4000-8000-000000000000').expect(422);
      expect((await feed.since(from)).map((e) => [e.type, e.customer_id, e.data])).toEqual([
        ['skill.invoked', c, {}],
      ]);
    });

    it('records nothing of an event whose actions exceed the per-event limit', async () => {
      const c = await a.customer();
      const approval = {
        type: 'require_approval',
        skill_slug: 'payments',
        action: 'pay_contractor',
      };
      await rule({ customer_id: c, actions: Array.from({ length: 10 }, () => approval) });
      await rule({ customer_id: c, actions: Array.from({ length: 10 }, () => approval) });
      await rule({
        customer_id: c,
        actions: [approval, { type: 'notify', to: 'x', message: 'y' }],
      });
      const from = await feed.end();
      expect((await report(c)).status).toBe(422);
      expect(await feed.since(from)).toEqual([]);
    });
  });
});
