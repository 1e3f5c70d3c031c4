import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher';
import { TEST_PLATFORM_KEY, TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';
import { recordingWorld } from '../helpers/recorded';
import { startAppOnSameDatabase } from '../helpers/same-database-app';
import { settleWebhooks } from '../helpers/webhooks';
import { WebhookReceiver } from '../helpers/webhook-receiver';

const ENV = {
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  // The default: a receiver's 2 s, stretched by a loaded machine, stays well inside it, so no
  // attempt times out and is retried (an answer past the timeout is a failure, and retried).
  WEBHOOK_TIMEOUT_MS: '10000',
  WEBHOOK_RETRY_SCHEDULE: '200ms',
};

describe('webhook delivery', () => {
  let t: TestApp;
  let world: Awaited<ReturnType<typeof recordingWorld>>;
  const receivers: WebhookReceiver[] = [];
  const replicas: NestFastifyApplication[] = [];

  beforeAll(async () => {
    t = await startTestApp(ENV);
    world = await recordingWorld(t);
  });
  afterEach(async () => {
    for (const app of [t.app, ...replicas]) await app.get(WebhookDispatcher).settled();
    await t.raw.query('DELETE FROM webhook_endpoints');
    await Promise.all(replicas.splice(0).map((r) => r.close()));
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });
  afterAll(() => t.close());

  const receiver = async () => {
    const r = await WebhookReceiver.start();
    receivers.push(r);
    return r;
  };
  const endpoint = async (session: TenantSession, body: object) =>
    (await t.http().post('/v1/webhook-endpoints').set(session.admin).send(body).expect(201)).body;
  const report = (n: number) =>
    t
      .http()
      .post(`/internal/v1/instances/${world.instance}/events`)
      .set(world.runtime)
      .send({ event: 'message.received', customer_id: world.customer, payload: { n } })
      .expect(200);

  it('delivers every event exactly once with three replicas and a receiver taking 2 s each', async () => {
    for (let i = 0; i < 2; i++) {
      replicas.push(
        await startAppOnSameDatabase(t, {
          webhooks: { ...t.config.webhooks, pollMs: 100 },
        }),
      );
    }
    const r = await receiver();
    r.answer = () => ({ delayMs: 2_000 });
    const created = await endpoint(world.a, { url: r.url });
    const events = 24;
    for (let i = 0; i < events; i++) await report(i);
    await r.waitFor(events, 30_000);
    // Polls and wakes keep running on all three while the last answers come back.
    await new Promise((done) => setTimeout(done, 2_500));
    for (const app of [t.app, ...replicas]) await app.get(WebhookDispatcher).settled();
    const ids = r.received.map((x) => x.headers['webhook-id']);
    expect(ids).toHaveLength(events);
    expect(new Set(ids).size).toBe(events);
    const { rows } = await t.raw.query<{ status: string; attempts: number }>(
      'SELECT status, attempts FROM webhook_deliveries WHERE endpoint_id = $1',
      [created.id],
    );
    expect(rows).toEqual(Array(events).fill({ status: 'succeeded', attempts: 1 }));
  });

  it('never attempts a delivery twice when claims of one tenant race on three replicas', async () => {
    for (let i = 0; i < 2; i++) replicas.push(await startAppOnSameDatabase(t));
    const dispatchers = [t.app, ...replicas].map((app) => app.get(WebhookDispatcher));
    const r = await receiver();
    await endpoint(world.a, { url: r.url });
    const events = 150;
    const reporting = (async () => {
      for (let i = 0; i < events; i++) await report(i);
    })();
    // Claims as fast as they come, four at a time on each replica, while the fan-out queues.
    let done = false;
    void reporting.then(() => r.waitFor(events, 60_000)).finally(() => (done = true));
    const deadline = Date.now() + 100_000; // never outlive the test, whatever happens
    while (!done && Date.now() < deadline) {
      await Promise.all(
        dispatchers.flatMap((d) => Array.from({ length: 4 }, () => d.dispatch(world.a.tenantId))),
      );
    }
    for (const d of dispatchers) await d.settled();
    const ids = r.received.map((x) => x.headers['webhook-id']);
    expect(new Set(ids).size).toBe(events);
    expect(ids).toHaveLength(events);
  }, 120_000);

  it("holds one pooled connection at a time for a tenant's failing deliveries", async () => {
    const r = await receiver();
    r.answer = () => ({ status: 500 }); // fails at once, as a hostile receiver may
    const since = new Date(Date.now() - 1000).toISOString();
    for (let n = 0; n < 40; n++) await report(n);
    await settleWebhooks(t);
    const endpoints = [];
    for (let i = 0; i < 3; i++) endpoints.push(await endpoint(world.a, { url: r.url }));
    const pool = (t.app.get(DataSource).driver as unknown as { master: Pool }).master;
    let most = 0;
    const sampler = setInterval(() => {
      most = Math.max(most, pool.totalCount - pool.idleCount);
    }, 5);
    try {
      // Queued by replays, not by requests: what holds connections meanwhile is the deliveries'.
      for (const e of endpoints) {
        await t
          .http()
          .post(`/v1/webhook-endpoints/${e.id}/replay`)
          .set(world.a.admin)
          .send({ since })
          .expect(202);
      }
      await settleWebhooks(t);
    } finally {
      clearInterval(sampler);
    }
    expect(r.received.length).toBeGreaterThanOrEqual(120); // every delivery was attempted
    // Before, each attempt's outcome took a connection and then waited on its endpoint's row:
    // 25 at once held the whole pool of 10, and every other tenant waited behind them. Now one
    // of them, beside the replay requests' own and the other background jobs'.
    expect(most).toBeLessThanOrEqual(5);
  });

  it("stops a suspended tenant's deliveries, and takes them up once it is active", async () => {
    const r = await receiver();
    r.answer = () => ({ status: 500 });
    const since = new Date(Date.now() - 1000).toISOString();
    for (let n = 0; n < 30; n++) await report(n);
    await settleWebhooks(t);
    const e = await endpoint(world.a, { url: r.url });
    const status = (value: string) =>
      t
        .http()
        .patch(`/platform/v1/tenants/${world.a.tenantId}`)
        .set('X-Platform-Key', TEST_PLATFORM_KEY)
        .send({ status: value })
        .expect(200);
    const dispatcher = t.app.get(WebhookDispatcher);
    await status('suspended');
    try {
      // Deliveries due while it is suspended: neither a kick (what an attempt's end does) nor
      // a look across tenants attempts them.
      await t.raw.query(
        `INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, event_type, next_attempt_at)
         SELECT tenant_id, $2, id, type, now() FROM events WHERE tenant_id = $1 AND occurred_at >= $3`,
        [world.a.tenantId, e.id, since],
      );
      dispatcher.kick(world.a.tenantId);
      await dispatcher.runOnce();
      await dispatcher.settled();
      expect(r.received).toHaveLength(0);
    } finally {
      await status('active');
    }
    await dispatcher.runOnce();
    await settleWebhooks(t);
    expect(r.received.length).toBeGreaterThanOrEqual(30);
  });

  it("delivers a rule's notify as notification.requested", async () => {
    const r = await receiver();
    await endpoint(world.a, { url: r.url, event_types: ['notification.requested'] });
    await t
      .http()
      .post('/v1/rules')
      .set(world.a.admin)
      .send({
        name: 'tell ops',
        trigger_event: 'message.received',
        customer_id: world.customer,
        cooldown_seconds: 0,
        actions: [{ type: 'notify', to: 'ops@harbour.example', message: 'A message came' }],
      })
      .expect(201);
    await report(1);
    await r.waitFor(1);
    const [event] = r.events();
    expect(event).toEqual(
      expect.objectContaining({
        type: 'notification.requested',
        instance_id: world.instance,
        customer_id: world.customer,
        data: expect.objectContaining({ to: 'ops@harbour.example', message: 'A message came' }),
      }),
    );
    await t.raw.query('DELETE FROM rules WHERE tenant_id = $1', [world.a.tenantId]);
  });

  it('disables an endpoint whose every attempt has failed for five days', async () => {
    const r = await receiver();
    r.answer = () => ({ status: 500 });
    const created = await endpoint(world.a, { url: r.url });
    await report(1);
    await r.waitFor(2);
    await t.app.get(WebhookDispatcher).settled();
    const get = () => t.http().get(`/v1/webhook-endpoints/${created.id}`).set(world.a.admin);
    expect((await get()).body).toEqual(
      expect.objectContaining({ status: 'enabled', failing_since: expect.any(String) }),
    );
    await t.raw.query(
      `UPDATE webhook_endpoints SET failing_since = now() - interval '5 days 1 minute' WHERE id = $1`,
      [created.id],
    );
    const counters = { ...t.app.get(WebhookDispatcher).counters };
    await report(2);
    await r.waitFor(3);
    await t.app.get(WebhookDispatcher).settled();
    expect((await get()).body.status).toBe('disabled');
    expect(t.app.get(WebhookDispatcher).counters.endpointsDisabled).toBe(
      counters.endpointsDisabled + 1,
    );
    // Disabled, it queues nothing more and sends nothing more.
    await report(3);
    await new Promise((done) => setTimeout(done, 1_000));
    expect(r.received).toHaveLength(3);
    // Enabled by hand, its streak starts afresh.
    const enabled = await t
      .http()
      .patch(`/v1/webhook-endpoints/${created.id}`)
      .set(world.a.admin)
      .send({ status: 'enabled' })
      .expect(200);
    expect(enabled.body).toEqual(
      expect.objectContaining({ status: 'enabled', failing_since: null }),
    );
  });

  it("never delivers a tenant's events to another tenant's endpoint, nor shows it them", async () => {
    const b = await TenantSession.create(t, 'B');
    const mine = await receiver();
    const theirs = await receiver();
    const ofA = await endpoint(world.a, { url: mine.url });
    const ofB = await endpoint(b, { url: theirs.url });
    await report(1);
    await mine.waitFor(1);
    await new Promise((done) => setTimeout(done, 500));
    expect(theirs.received).toHaveLength(0);
    const asB = (path: string) => t.http().get(path).set(b.admin);
    expect((await asB('/v1/webhook-endpoints')).body).toEqual({
      webhook_endpoints: [expect.objectContaining({ id: ofB.id })],
      count: 1,
    });
    await asB(`/v1/webhook-endpoints/${ofA.id}`).expect(404);
    await asB(`/v1/webhook-endpoints/${ofA.id}/deliveries`).expect(404);
    await t
      .http()
      .patch(`/v1/webhook-endpoints/${ofA.id}`)
      .set(b.admin)
      .send({ url: theirs.url })
      .expect(404);
    const still = await t.http().get(`/v1/webhook-endpoints/${ofA.id}`).set(world.a.admin);
    expect(still.body.url).toBe(mine.url);
  });
});
