import { WorkflowSweeper } from '../../src/workflows/workflow-sweeper';
import { TestApp, startTestApp } from '../helpers/app';
import { recordingWorld } from '../helpers/recorded';
import { WebhookReceiver } from '../helpers/webhook-receiver';
import { REFUSING_WEBHOOK_URL, settleWebhooks } from '../helpers/webhooks';

const TOKEN = 'metrics-token-for-the-tests-0123';
const SCRAPE = { Authorization: `Bearer ${TOKEN}` };

/** The value of one series of a Prometheus text exposition, 0 when it is not there. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return 0;
}

describe('GET /metrics', () => {
  describe('without METRICS_TOKEN', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp();
    });
    afterAll(() => t.close());

    it('is not there: the 404 of any unknown route, whatever the credential', async () => {
      const res = await t.http().get('/metrics').set('Authorization', 'Bearer anything');
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ detail: 'Cannot GET /metrics' });
      expect((await t.http().get('/nothing-here')).body).toEqual({
        detail: 'Cannot GET /nothing-here',
      });
    });
  });

  describe('with METRICS_TOKEN', () => {
    let t: TestApp;
    let world: Awaited<ReturnType<typeof recordingWorld>>;
    const scrape = async () => {
      const res = await t.http().get('/metrics').set(SCRAPE).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      return res.text;
    };

    beforeAll(async () => {
      t = await startTestApp({
        METRICS_TOKEN: TOKEN,
        WEBHOOK_ALLOW_HTTP: 'true',
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
        // One retry, soon: a delivery to a refusing endpoint fails for good within the test.
        WEBHOOK_RETRY_SCHEDULE: '100ms',
      });
      world = await recordingWorld(t);
    });
    afterAll(() => t.close());

    const endpoint = (body: object) =>
      t.http().post('/v1/webhook-endpoints').set(world.a.admin).send(body).expect(201);

    it('refuses a missing or wrong token with 401 and WWW-Authenticate', async () => {
      for (const auth of [undefined, 'Bearer wrong', `Bearer ${TOKEN}x`, TOKEN]) {
        const req = t.http().get('/metrics');
        const res = await (auth ? req.set('Authorization', auth) : req);
        expect([auth, res.status]).toEqual([auth, 401]);
        expect(res.headers['www-authenticate']).toBe('Bearer');
        expect(res.body).toEqual({ detail: expect.any(String) });
      }
      // Another credential of the platform opens nothing here either.
      const admin = await t.http().get('/metrics').set(world.a.admin);
      expect(admin.status).toBe(401);
    });

    it('names every series an operator watches', async () => {
      await t.http().get('/v1/customers').set(world.a.admin).expect(200);
      const text = await scrape();
      for (const name of [
        'http_requests_total',
        'http_request_duration_seconds_bucket',
        'hydracore_db_pool_connections',
        'hydracore_db_pool_waiting',
        'hydracore_tenant_gate_waiting',
        'hydracore_outbox_backlog',
        'hydracore_webhook_backlog',
        'hydracore_webhook_deliveries_failed_total',
        'hydracore_timer_lag_seconds',
        'hydracore_rule_firings_total',
      ]) {
        expect([name, text.includes(`# TYPE ${name.replace(/_bucket$/, '')} `)]).toEqual([
          name,
          true,
        ]);
      }
      const idle = sample(text, 'hydracore_db_pool_connections', { state: 'idle' });
      const inUse = sample(text, 'hydracore_db_pool_connections', { state: 'in_use' });
      expect(idle + inUse).toBeGreaterThan(0);
      expect(sample(text, 'hydracore_outbox_backlog')).toBe(0);
    });

    it("counts a request under its route's template, method and status", async () => {
      const labels = { method: 'GET', route: '/v1/customers/:customer_id', status: '200' };
      const before = sample(await scrape(), 'http_requests_total', labels);
      await t.http().get(`/v1/customers/${world.customer}`).set(world.a.admin).expect(200);
      await t.http().get(`/v1/customers/${world.customer}`).set(world.a.admin).expect(200);
      const text = await scrape();
      expect(sample(text, 'http_requests_total', labels)).toBe(before + 2);
      expect(sample(text, 'http_request_duration_seconds_count', labels)).toBe(before + 2);
      // An id is never a label: a series per customer would grow without bound.
      expect(text).not.toContain(world.customer);
      await t.http().get('/no/such/route').expect(404);
      expect(
        sample(await scrape(), 'http_requests_total', { route: 'unmatched', status: '404' }),
      ).toBeGreaterThanOrEqual(1);
    });

    it('shows the webhook backlog, and counts a delivery that failed for good', async () => {
      const event = () =>
        t
          .http()
          .post(`/internal/v1/instances/${world.instance}/events`)
          .set(world.runtime)
          .send({ event: 'message.received', customer_id: world.customer, payload: {} })
          .expect(200);
      const pending = async () =>
        (
          await t.raw.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'pending'`,
          )
        ).rows[0].n;

      // A receiver that holds its answer: the delivery is pending while it waits.
      const slow = await WebhookReceiver.start();
      try {
        slow.answer = () => ({ delayMs: 1_500 });
        await endpoint({ url: slow.url });
        await event();
        await slow.waitFor(1);
        expect(await pending()).toBe(1);
        expect(sample(await scrape(), 'hydracore_webhook_backlog')).toBe(1);
        await settleWebhooks(t);
        expect(await pending()).toBe(0);
        expect(sample(await scrape(), 'hydracore_webhook_backlog')).toBe(0);
      } finally {
        await t.raw.query('DELETE FROM webhook_endpoints');
        await slow.close();
      }

      // An endpoint that refuses: the attempt and its one retry fail, then the delivery.
      await endpoint({ url: REFUSING_WEBHOOK_URL });
      const before = sample(await scrape(), 'hydracore_webhook_deliveries_failed_total');
      await event();
      let failed = before;
      for (let i = 0; i < 100 && failed === before; i++) {
        await settleWebhooks(t);
        await new Promise((r) => setTimeout(r, 100));
        failed = sample(await scrape(), 'hydracore_webhook_deliveries_failed_total');
      }
      expect(failed).toBe(before + 1);
      const { rows } = await t.raw.query(`SELECT status, attempts FROM webhook_deliveries`);
      expect(rows).toEqual([{ status: 'failed', attempts: 2 }]);
      const text = await scrape();
      expect(sample(text, 'hydracore_webhook_attempts_total', { result: 'failed' })).toBe(2);
      expect(sample(text, 'hydracore_webhook_attempts_total', { result: 'succeeded' })).toBe(1);
      expect(sample(text, 'hydracore_webhook_backlog')).toBe(0);
    });

    it('measures how late a timer fired, counts rule firings by outcome and the outbox backlog', async () => {
      const late = new Date(Date.now() - 5_000).toISOString();
      await t
        .http()
        .post(`/internal/v1/instances/${world.instance}/workflows`)
        .set(world.runtime)
        .send({ customer_id: world.customer, workflow_type: 'rent_arrears', next_action_at: late })
        .expect(201);
      await t.app.get(WorkflowSweeper).runOnce();
      let text = await scrape();
      expect(sample(text, 'hydracore_timer_lag_seconds_count', { timer: 'workflow_due' })).toBe(1);
      expect(
        sample(text, 'hydracore_timer_lag_seconds_sum', { timer: 'workflow_due' }),
      ).toBeGreaterThanOrEqual(5);

      await t
        .http()
        .post('/v1/rules')
        .set(world.a.admin)
        .send({
          name: 'counted',
          trigger_event: 'skill.invoked',
          customer_id: world.customer,
          cooldown_seconds: 3600,
          actions: [{ type: 'notify', to: 'ops@harbour.example', message: 'invoked' }],
        })
        .expect(201);
      const invoke = () =>
        t
          .http()
          .post(`/internal/v1/instances/${world.instance}/events`)
          .set(world.runtime)
          .send({ event: 'skill.invoked', customer_id: world.customer, payload: {} })
          .expect(200);
      expect(sample(await scrape(), 'hydracore_outbox_backlog')).toBe(0);
      await invoke();
      await invoke(); // held back by its cooldown
      text = await scrape();
      // The notification waits in the outbox: no receiver is configured, the relay is off.
      expect(sample(text, 'hydracore_outbox_backlog')).toBe(1);
      expect(sample(text, 'hydracore_rule_firings_total', { outcome: 'fired' })).toBe(1);
      expect(sample(text, 'hydracore_rule_firings_total', { outcome: 'suppressed_cooldown' })).toBe(
        1,
      );
    });
  });
});
