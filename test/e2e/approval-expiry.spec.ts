import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.factory';
import { ApprovalSweeper } from '../../src/approvals/approval-sweeper';
import { ApprovalsRepository } from '../../src/approvals/approvals.repository';
import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';
import { FeedEvent, allEvents, feedOf } from '../helpers/recorded';
import { workerPlans } from '../helpers/worker-plans';

const INTENT = { contractor_id: 'C-42', amount: 750, currency: 'GBP' };

interface World {
  a: TenantSession;
  customer: string;
  instance: string;
  runtime: Record<string, string>;
  feed: ReturnType<typeof feedOf>;
}

async function world(t: TestApp, name: string): Promise<World> {
  const a = await TenantSession.create(t, name);
  const customer = await a.customer();
  const instance = await a.instance();
  const runtime = (await a.proxyKey(instance)).headers;
  return { a, customer, instance, runtime, feed: feedOf(t, a.tenantId, instance, runtime) };
}

/** `n` pending approvals of the world's instance, their expires_at moved by `shift` (SQL interval). */
async function approvals(t: TestApp, w: World, n: number, shift: string) {
  const made: { id: string; approval_ref: string }[] = [];
  for (let i = 0; i < n; i++) {
    const res = await t
      .http()
      .post(`/internal/v1/instances/${w.instance}/approvals/request`)
      .set(w.runtime)
      .send({
        customer_id: w.customer,
        skill_slug: 'payments',
        action: 'pay_contractor',
        serialized_intent: { ...INTENT, n: i },
      })
      .expect(201);
    made.push(res.body);
  }
  await t.raw.query(`UPDATE approvals SET expires_at = now() + $2::interval WHERE id = ANY($1)`, [
    made.map((m) => m.id),
    shift,
  ]);
  return made;
}

const expiries = (events: FeedEvent[]) =>
  events.filter((e) => e.type === 'approval.resolved').map((e) => e.data.approval.id);

describe('approval expiry', () => {
  let t: TestApp;
  let replica: NestFastifyApplication;

  beforeAll(async () => {
    t = await startTestApp();
    replica = await createApp(t.config);
  });
  afterAll(async () => {
    await replica.close();
    await t.close();
  });

  it('expires each approval once, with one approval.resolved, when two replicas pass at once', async () => {
    const w = await world(t, 'Race');
    const from = await w.feed.end();
    const due = await approvals(t, w, 40, `-1 second`);
    const live = await approvals(t, w, 1, `1 hour`);
    const afterRequests = await w.feed.end();
    const passes = [t.app, replica, t.app, replica].map((app) =>
      app.get(ApprovalSweeper).runOnce(),
    );
    const handled = await Promise.all(passes);
    // Passes of one replica join; the two replicas' passes share the approvals between them.
    expect(handled[0] + handled[1]).toBe(40);
    const events = await w.feed.since(afterRequests);
    expect(events).toHaveLength(40);
    expect([...expiries(events)].sort()).toEqual(due.map((d) => d.id).sort());
    for (const e of events) {
      expect(e).toMatchObject({
        type: 'approval.resolved',
        instance_id: w.instance,
        customer_id: w.customer,
        caused_by: null,
        data: { approval: { status: 'expired' }, decision: 'expired' },
      });
    }
    // Another pass finds nothing left; the approval not yet due is untouched.
    expect(await t.app.get(ApprovalSweeper).runOnce()).toBe(0);
    expect(await w.feed.since(afterRequests)).toHaveLength(40);
    const stored = await t.raw.query('SELECT status FROM approvals WHERE id = $1', [live[0].id]);
    expect(stored.rows[0].status).toBe('pending');
    expect((await w.feed.since(from)).map((e) => e.type)).toEqual([
      ...Array(41).fill('approval.requested'),
      ...Array(40).fill('approval.resolved'),
    ]);
  });

  it('records one approval.resolved when the resolve route and a pass meet the same approval', async () => {
    const w = await world(t, 'Meet');
    const due = await approvals(t, w, 10, `-1 second`);
    const from = await w.feed.end();
    const resolutions = due.map((d) =>
      t.http().post(`/internal/v1/instances/${w.instance}/approvals/resolve`).set(w.runtime).send({
        approval_ref: d.approval_ref,
        action: 'approve',
        pin_verified: true,
        resolver_role: 'customer',
      }),
    );
    const [answers] = await Promise.all([
      Promise.all(resolutions),
      replica.get(ApprovalSweeper).runOnce(),
    ]);
    // Whichever came first expired it: the route answers 410 if it did, 409 if the pass did.
    for (const res of answers) expect([409, 410]).toContain(res.status);
    const events = await w.feed.since(from);
    expect([...expiries(events)].sort()).toEqual(due.map((d) => d.id).sort());
    expect(events).toHaveLength(10);
  });

  it('looks across tenants only at those with pending approvals past expires_at', async () => {
    const due = await world(t, 'Due');
    const notYet = await world(t, 'Not yet');
    const quiet = await world(t, 'Quiet');
    await approvals(t, due, 1, `-1 second`);
    await approvals(t, notYet, 1, `1 minute`);
    const [resolved] = await approvals(t, quiet, 1, `-1 second`);
    await t.raw.query(`UPDATE approvals SET status = 'rejected' WHERE id = $1`, [resolved.id]);
    const tenants = await t.app.get(ApprovalsRepository).tenantsWithExpired();
    expect(tenants).toContain(due.a.tenantId);
    expect(tenants).not.toContain(notYet.a.tenantId);
    expect(tenants).not.toContain(quiet.a.tenantId);
    await t.app.get(ApprovalSweeper).runOnce();
    expect(await t.app.get(ApprovalsRepository).tenantsWithExpired()).toEqual([]);
    expect((await allEvents(t, notYet.a.tenantId)).map((e) => e.type)).toEqual([
      'approval.requested',
    ]);
  });
});

describe('the look for expired approvals', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('reads only approvals past their time, however many others a tenant keeps', async () => {
    const hostile = await world(t, 'Hostile');
    // Resolved approvals whose time has passed, and pending ones a week away: none expired.
    await t.raw.query(
      `INSERT INTO approvals (tenant_id, approval_ref, customer_id, skill_slug, action,
                              serialized_intent, intent_hash, approver_role, request_hash,
                              status, expires_at)
       SELECT $1, 'APR-' || translate(lpad(g::text, 8, 'Z'), '01', 'AB'), $2, 'payments',
              'pay_contractor', '{}', 'hash', 'owner', 'hash',
              CASE WHEN g % 2 = 0 THEN 'pending' ELSE 'approved' END,
              now() + CASE WHEN g % 2 = 0 THEN interval '7 days' ELSE interval '-7 days' END
         FROM generate_series(1, 100000) g`,
      [hostile.a.tenantId, hostile.customer],
    );
    await t.raw.query('ANALYZE approvals');
    const due = await world(t, 'Due');
    await approvals(t, due, 1, `-1 second`);
    const repo = t.app.get(ApprovalsRepository);

    const [plan, ...others] = await workerPlans(t, 'approvals', () => repo.tenantsWithExpired());
    expect(others).toEqual([]);
    expect(plan).not.toContain('Seq Scan');
    expect(plan).not.toContain('Gather');
    expect(plan).toContain('"Index Name":"approvals_expired"');
    expect(await repo.tenantsWithExpired()).toEqual([due.a.tenantId]);
  });
});

describe('the approval timer', () => {
  let t: TestApp;

  // The sweep interval as deployed: the timer still looks every second.
  beforeAll(async () => (t = await startTestApp({ SWEEP_INTERVAL_MS: '60000' })));
  afterAll(() => t.close());

  it('expires an approval within 5 s of its expires_at, on its own, and records it', async () => {
    const w = await world(t, 'Timer');
    const [approval] = await approvals(t, w, 1, '1 second');
    const { rows } = await t.raw.query('SELECT expires_at FROM approvals WHERE id = $1', [
      approval.id,
    ]);
    const expiresAt = (rows[0].expires_at as Date).getTime();
    let status = 'pending';
    while (status === 'pending' && Date.now() < expiresAt + 6_000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await t.raw.query('SELECT status FROM approvals WHERE id = $1', [approval.id]))
        .rows[0].status;
    }
    expect(status).toBe('expired');
    expect(Date.now() - expiresAt).toBeLessThan(5_000);
    expect((await allEvents(t, w.a.tenantId)).map((e) => e.type)).toEqual([
      'approval.requested',
      'approval.resolved',
    ]);
  });
});
