import { Webhook } from 'standardwebhooks';
import { newSecret } from '../../src/webhooks/signing';
import { TenantDb } from '../../src/database/tenant-db';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher';
import { WebhookEndpointsRepository } from '../../src/webhooks/webhook-endpoints.repository';
import { WebhookTypesAllAlone1732408900000 } from '../../migrations/1732408900000-webhook-types-all-alone';
import { TestApp, startTestApp } from '../helpers/app';
import { inOwnerTransaction } from '../helpers/owner-transaction';
import request from 'supertest';
import { TenantSession } from '../helpers/factories';
import { startAppOnSameDatabase } from '../helpers/same-database-app';
import { Feed, recordingWorld } from '../helpers/recorded';
import { WebhookReceiver } from '../helpers/webhook-receiver';

/** Loopback receivers over http; attempts time out at 3 s; two quick retries, then failed. */
const ENV = {
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_TIMEOUT_MS: '3000',
  WEBHOOK_RETRY_SCHEDULE: '300ms,300ms',
};

describe('webhook endpoints', () => {
  let t: TestApp;
  let a: TenantSession;
  let customer: string;
  let instance: string;
  let sibling: string;
  let runtime: Record<string, string>;
  let siblingRuntime: Record<string, string>;
  let feed: Feed;
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    t = await startTestApp(ENV);
    ({ a, customer, instance, sibling, runtime, siblingRuntime, feed } = await recordingWorld(t));
  });
  afterEach(async () => {
    await t.app.get(WebhookDispatcher).settled();
    // Each test's endpoints go, so the next test's events reach only its own.
    const list = await t.http().get('/v1/webhook-endpoints').set(a.admin).expect(200);
    for (const e of list.body.webhook_endpoints) {
      await t.http().delete(`/v1/webhook-endpoints/${e.id}`).set(a.admin).expect(204);
    }
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });
  afterAll(() => t.close());

  const receiver = async () => {
    const r = await WebhookReceiver.start();
    receivers.push(r);
    return r;
  };
  const endpoint = async (body: object) =>
    (await t.http().post('/v1/webhook-endpoints').set(a.admin).send(body).expect(201)).body;
  const report = (event: string, headers = runtime, inst = instance) =>
    t
      .http()
      .post(`/internal/v1/instances/${inst}/events`)
      .set(headers)
      .send({ event, customer_id: customer, payload: { n: 1 } })
      .expect(200);
  const deliveries = async (endpointId: string, query: object = {}) =>
    (
      await t
        .http()
        .get(`/v1/webhook-endpoints/${endpointId}/deliveries`)
        .query(query)
        .set(a.admin)
        .expect(200)
    ).body.deliveries;
  /** Waits until the dispatcher has nothing under way and nothing due for a moment. */
  const quiet = async () => {
    const dispatcher = t.app.get(WebhookDispatcher);
    for (let idle = 0; idle < 3;) {
      await new Promise((r) => setTimeout(r, 150));
      await dispatcher.settled();
      idle = (await dispatcher.runOnce()) === 0 ? idle + 1 : 0;
    }
  };

  it('delivers each event signed per Standard Webhooks, which a wrong secret does not verify', async () => {
    const r = await receiver();
    const res = await t
      .http()
      .post('/v1/webhook-endpoints')
      .set(a.admin)
      .send({ url: r.url, description: 'runtime' })
      .expect(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const created = res.body;
    expect(created).toEqual(
      expect.objectContaining({
        url: r.url,
        event_types: ['*'],
        instance_id: null,
        status: 'enabled',
        description: 'runtime',
        failing_since: null,
      }),
    );
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const shown = await t.http().get(`/v1/webhook-endpoints/${created.id}`).set(a.admin);
    expect(shown.body).not.toHaveProperty('secret');
    expect(JSON.stringify(shown.body)).not.toContain(created.secret.slice(6));

    const from = await feed.end();
    await report('message.received');
    await r.waitFor(1);
    const [event] = await feed.since(from);
    const [got] = r.received;
    expect(got.headers['webhook-id']).toBe(event.id);
    const verified = new Webhook(created.secret).verify(got.body, got.headers as never);
    expect(verified).toEqual(event);
    expect(() => new Webhook(newSecret()).verify(got.body, got.headers as never)).toThrow(
      'No matching signature found',
    );

    await quiet();
    expect(await deliveries(created.id)).toEqual([
      expect.objectContaining({
        event_id: event.id,
        event_type: 'message.received',
        status: 'succeeded',
        attempts: 1,
        last_response_status: 200,
        last_error: null,
        next_attempt_at: null,
      }),
    ]);
  });

  it('signs with the old and the new secret for a day after a rotation, then the new only', async () => {
    const r = await receiver();
    const created = await endpoint({ url: r.url });
    const rotated = await t
      .http()
      .post(`/v1/webhook-endpoints/${created.id}/rotate-secret`)
      .set(a.admin)
      .expect(200);
    expect(rotated.headers['cache-control']).toBe('no-store');
    const secret = rotated.body.secret as string;
    expect(secret).not.toBe(created.secret);

    await report('message.received');
    await r.waitFor(1);
    const during = r.received[0];
    expect((during.headers['webhook-signature'] as string).split(' ')).toHaveLength(2);
    for (const s of [created.secret, secret]) {
      expect(() => new Webhook(s).verify(during.body, during.headers as never)).not.toThrow();
    }

    await t.raw.query(
      `UPDATE webhook_endpoints SET previous_secret_until = now() - interval '1 second'
        WHERE id = $1`,
      [created.id],
    );
    await report('message.received');
    await r.waitFor(2);
    const after = r.received[1];
    expect((after.headers['webhook-signature'] as string).split(' ')).toHaveLength(1);
    expect(() => new Webhook(secret).verify(after.body, after.headers as never)).not.toThrow();
    expect(() => new Webhook(created.secret).verify(after.body, after.headers as never)).toThrow();
  });

  it('retries after a 500 and after a timeout with the same webhook-id, until a 2xx', async () => {
    const r = await receiver();
    r.answer = (_, i) => [{ status: 500 }, { delayMs: 4_000 }, {}][i] ?? {};
    const created = await endpoint({ url: r.url });
    await report('message.received');
    await r.waitFor(3, 20_000);
    await quiet();
    expect(new Set(r.received.map((x) => x.headers['webhook-id'])).size).toBe(1);
    expect(await deliveries(created.id)).toEqual([
      expect.objectContaining({ status: 'succeeded', attempts: 3, last_response_status: 200 }),
    ]);
    expect(r.received).toHaveLength(3);
  });

  it('fails a delivery after the schedule, and a manual retry delivers it', async () => {
    const r = await receiver();
    r.answer = () => ({ status: 503 });
    const created = await endpoint({ url: r.url });
    await report('message.received');
    await r.waitFor(3);
    await quiet();
    // One attempt and the schedule's two retries, then no more.
    expect(r.received).toHaveLength(3);
    const [failed] = await deliveries(created.id, { status: 'failed' });
    expect(failed).toEqual(
      expect.objectContaining({
        status: 'failed',
        attempts: 3,
        last_response_status: 503,
        last_error: 'HTTP 503',
        next_attempt_at: null,
      }),
    );
    expect(await deliveries(created.id, { status: 'succeeded' })).toEqual([]);
    const failing = await t.http().get(`/v1/webhook-endpoints/${created.id}`).set(a.admin);
    expect(failing.body.failing_since).not.toBeNull();

    r.answer = () => ({});
    const retried = await t
      .http()
      .post(`/v1/webhook-endpoints/${created.id}/deliveries/${failed.id}/retry`)
      .set(a.admin)
      .expect(202);
    expect(retried.body).toEqual(
      expect.objectContaining({ id: failed.id, status: 'pending', attempts: 0 }),
    );
    await r.waitFor(4);
    await quiet();
    expect(await deliveries(created.id)).toEqual([
      expect.objectContaining({ id: failed.id, status: 'succeeded', attempts: 1 }),
    ]);
    const healed = await t.http().get(`/v1/webhook-endpoints/${created.id}`).set(a.admin);
    expect(healed.body.failing_since).toBeNull();
    await t
      .http()
      .post(`/v1/webhook-endpoints/${created.id}/deliveries/${a.tenantId}/retry`)
      .set(a.admin)
      .expect(404);
  });

  it('replays the events since a time, delivered before or not', async () => {
    const r = await receiver();
    const created = await endpoint({ url: r.url, event_types: ['message.received'] });
    await report('message.received');
    await r.waitFor(1);
    await quiet();
    const since = new Date().toISOString();
    await report('message.received');
    await report('rent.overdue');
    await r.waitFor(2);
    await quiet();
    const replay = await t
      .http()
      .post(`/v1/webhook-endpoints/${created.id}/replay`)
      .set(a.admin)
      .send({ since })
      .expect(202);
    expect(replay.body).toEqual({ queued: 1, next_after: null, next_since: null });
    await r.waitFor(3);
    await quiet();
    const ids = r.received.map((x) => x.headers['webhook-id']);
    expect(ids).toHaveLength(3);
    expect(ids[2]).toBe(ids[1]);
    expect(r.events().map((e) => e.type)).toEqual([
      'message.received',
      'message.received',
      'message.received',
    ]);
  });

  it('replays while the dispatcher holds the endpoint and then the delivery, without a deadlock', async () => {
    const r = await receiver();
    const created = await endpoint({ url: r.url, event_types: ['message.received'] });
    const since = new Date().toISOString();
    await report('message.received');
    await report('message.received');
    await r.waitFor(2);
    await quiet();
    // The first event's delivery stays, to be requeued; the second's goes, to be inserted again.
    const { rows } = await t.raw.query<{ id: string }>(
      'SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY created_at',
      [created.id],
    );
    await t.raw.query('DELETE FROM webhook_deliveries WHERE id = $1', [rows[1].id]);
    // As the dispatcher records an outcome: the endpoint locked, then the delivery updated.
    let locked!: () => void;
    const endpointLocked = new Promise<void>((done) => (locked = done));
    const outcome = t.app.get(TenantDb).run(a.tenantId, async (m) => {
      await t.app.get(WebhookEndpointsRepository).lockForOutcome(a.tenantId, created.id);
      locked();
      // Gives the replay time to reach the rows; a deadlock would be found 1 s after it waits.
      await new Promise((done) => setTimeout(done, 300));
      await m.query('UPDATE webhook_deliveries SET updated_at = now() WHERE id = $1', [rows[0].id]);
    });
    await endpointLocked;
    const replay = await t
      .http()
      .post(`/v1/webhook-endpoints/${created.id}/replay`)
      .set(a.admin)
      .send({ since });
    await outcome;
    expect([replay.status, replay.body]).toEqual([
      202,
      { queued: 2, next_after: null, next_since: null },
    ]);
    await quiet();
    await r.waitFor(4);
  });

  it("delivers only an endpoint's types, and of an instance its events and the tenant's", async () => {
    const leads = await receiver();
    const ofSibling = await receiver();
    await endpoint({ url: leads.url, event_types: ['message.received', 'viewing.booked'] });
    await endpoint({ url: ofSibling.url, instance_id: sibling });
    await report('message.received');
    await report('rent.overdue');
    await report('viewing.booked', siblingRuntime, sibling);
    // A change made from the dashboard is the tenant's, of no instance.
    const person = await a.person(customer);
    await t
      .http()
      .post(`/v1/customers/${customer}/worker-bindings`)
      .set(a.admin)
      .send({
        customer_id: customer,
        person_id: person,
        channel_type: 'email',
        channel_address: 'filter@harbour.example',
      })
      .expect(201);
    await quiet();
    expect(leads.events().map((e) => [e.type, e.instance_id])).toEqual([
      ['message.received', instance],
      ['viewing.booked', sibling],
    ]);
    expect(ofSibling.events().map((e) => [e.type, e.instance_id])).toEqual([
      ['viewing.booked', sibling],
      ['binding.created', null],
    ]);
  });

  it('keeps a slow endpoint from delaying a fast one', async () => {
    const slow = await receiver();
    slow.answer = () => ({ delayMs: 5_000 });
    const fast = await receiver();
    await endpoint({ url: slow.url });
    await endpoint({ url: fast.url });
    const reportedAt: number[] = [];
    for (let n = 0; n < 12; n++) {
      await t
        .http()
        .post(`/internal/v1/instances/${instance}/events`)
        .set(runtime)
        .send({ event: 'message.received', customer_id: customer, payload: { n } })
        .expect(200);
      reportedAt[n] = Date.now();
    }
    await fast.waitFor(12, 10_000);
    // The slow endpoint's attempts are each held past the 3 s timeout, eight at a time; had
    // the fast one waited behind them, some of its deliveries would have come seconds late.
    const lateness = fast.received.map((r) => r.at - reportedAt[JSON.parse(r.body).data.n]);
    expect(Math.max(...lateness)).toBeLessThan(2_000);
    expect(slow.received.length).toBeLessThanOrEqual(8);
    slow.answer = () => ({});
  });

  it('refuses a URL it may not deliver to, and writes nothing', async () => {
    const refused = async (url: string, msg: RegExp) => {
      const res = await t
        .http()
        .post('/v1/webhook-endpoints')
        .set(a.admin)
        .send({ url })
        .expect(422);
      expect(res.body.detail).toEqual([
        expect.objectContaining({ loc: ['body', 'url'], msg: expect.stringMatching(msg) }),
      ]);
    };
    await refused('http://169.254.169.254/latest/meta-data', /metadata/i);
    await refused('ftp://hooks.example/x', /http/);
    await refused('https://user:pass@hooks.example/x', /user name or password/);
    // Every type and some types at once says two things: refused, at create and at update.
    const mixed = { url: 'http://127.0.0.1:9/x', event_types: ['*', 'workflow.due'] };
    const res = await t.http().post('/v1/webhook-endpoints').set(a.admin).send(mixed).expect(422);
    expect(res.body.detail).toEqual([
      expect.objectContaining({ loc: ['body', 'event_types'], msg: expect.stringMatching(/\*/) }),
    ]);
    const list = await t.http().get('/v1/webhook-endpoints').set(a.admin).expect(200);
    expect(list.body).toEqual({ webhook_endpoints: [], count: 0 });
    const made = await t
      .http()
      .post('/v1/webhook-endpoints')
      .set(a.admin)
      .send({ url: 'http://127.0.0.1:9/x', event_types: ['workflow.due'] })
      .expect(201);
    await t
      .http()
      .patch(`/v1/webhook-endpoints/${made.body.id}`)
      .set(a.admin)
      .send({ event_types: ['workflow.due', '*'] })
      .expect(422);
    const kept = await t.http().get(`/v1/webhook-endpoints/${made.body.id}`).set(a.admin);
    expect(kept.body.event_types).toEqual(['workflow.due']);
    await t.http().delete(`/v1/webhook-endpoints/${made.body.id}`).set(a.admin).expect(204);
  });

  it('writes an endpoint stored with "*" beside types as ["*"] (migration 1732408900000)', async () => {
    const make = async (types: string[]) =>
      (
        await t
          .http()
          .post('/v1/webhook-endpoints')
          .set(a.admin)
          .send({ url: 'http://127.0.0.1:9/x', event_types: types })
          .expect(201)
      ).body.id as string;
    const mixed = await make(['workflow.due']);
    const plain = await make(['workflow.due']);
    // As an endpoint made before '*' had to stand alone was stored.
    await t.raw.query(
      `UPDATE webhook_endpoints SET event_types = '{*,workflow.due}' WHERE id = $1`,
      [mixed],
    );
    await inOwnerTransaction(t, 'commit', (_, runner) =>
      new WebhookTypesAllAlone1732408900000().up(runner),
    );
    const types = async (id: string) =>
      (await t.http().get(`/v1/webhook-endpoints/${id}`).set(a.admin).expect(200)).body.event_types;
    expect(await types(mixed)).toEqual(['*']);
    expect(await types(plain)).toEqual(['workflow.due']);
    for (const id of [mixed, plain]) {
      await t.http().delete(`/v1/webhook-endpoints/${id}`).set(a.admin).expect(204);
    }
  });

  it('refuses http and private, loopback and link-local hosts as production runs, at create and update', async () => {
    const production = await startAppOnSameDatabase(t, {
      webhooks: { ...t.config.webhooks, allowHttp: false, allowPrivateNetworks: false },
    });
    try {
      const write = (method: 'post' | 'patch', path: string, url: string) =>
        request(production.getHttpServer())[method](path).set(a.admin).send({ url });
      for (const [url, msg] of [
        ['http://hooks.example.com/x', /must use https/],
        ['https://127.0.0.1/x', /loopback/],
        ['https://localhost/x', /loopback/],
        ['https://10.1.2.3/x', /private/],
        ['https://[::ffff:192.168.0.1]/x', /private/],
        ['https://169.254.10.10/x', /link-local/],
      ] as const) {
        const res = await write('post', '/v1/webhook-endpoints', url).expect(422);
        expect(res.body.detail).toEqual([
          expect.objectContaining({ loc: ['body', 'url'], msg: expect.stringMatching(msg) }),
        ]);
      }
      // An endpoint made where loopback is allowed cannot be moved to a private host here.
      const r = await receiver();
      const created = await endpoint({ url: r.url });
      await write('patch', `/v1/webhook-endpoints/${created.id}`, 'https://10.1.2.3/x').expect(422);
      const { rows } = await t.raw.query('SELECT url FROM webhook_endpoints WHERE tenant_id = $1', [
        a.tenantId,
      ]);
      expect(rows).toEqual([{ url: r.url }]);
    } finally {
      await production.close();
    }
  });
});
