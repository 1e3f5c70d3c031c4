import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Client } from 'pg';
import { signDevToken } from '../../src/auth/tokens';
import { freePort } from '../../src/database/embedded';
import { WebhookReceiver } from '../helpers/webhook-receiver';
import { adminQuery, testServer, withDatabase } from '../setup/test-server';
import { JWT_SECRET, MAIN, PLATFORM_KEY, Started, sleep, startBuilt } from './built-server';

const TIMEOUT_MS = 3_000;
/** The dispatcher's lease: the attempt's timeout and its margin (webhook-dispatcher.ts). */
const LEASE_MS = TIMEOUT_MS + 10_000;
const EVENTS = 5;

const ENV = {
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
  WEBHOOK_POLL_INTERVAL_MS: '200',
};

describe('a replica killed in the middle of webhook deliveries', () => {
  const server = testServer();
  const database = `hydracore_test_webhook_kill_${randomBytes(4).toString('hex')}`;
  const apps: Started[] = [];
  let receiver: WebhookReceiver | undefined;
  let observer: Client | undefined;

  afterAll(async () => {
    for (const app of apps) if (app.child.exitCode === null) app.child.kill('SIGKILL');
    await receiver?.close();
    await observer?.end().catch(() => undefined);
  });

  it('loses nothing: another replica delivers each attempt once its lease has passed', async () => {
    expect(existsSync(MAIN)).toBe(true); // npm run test:faults builds first
    const owner = new URL(server.ownerUrl).username;
    await adminQuery(`CREATE DATABASE ${database} TEMPLATE ${server.template} OWNER "${owner}"`);
    const databaseUrl = withDatabase(server.ownerUrl, database);
    receiver = await WebhookReceiver.start();
    // The first replica's attempts are never answered: it dies with them under way.
    receiver.answer = () => ({ delayMs: 60_000 });

    const port = await freePort();
    const first = await startBuilt(port, databaseUrl, { env: ENV });
    apps.push(first);
    const base = `http://127.0.0.1:${port}`;
    const post = async (path: string, headers: Record<string, string>, body: object) => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as { id: string; key: string };
    };
    const tenantId = (
      await post('/platform/v1/tenants', { 'X-Platform-Key': PLATFORM_KEY }, { name: 'Kill' })
    ).id;
    const admin = {
      Authorization: `Bearer ${signDevToken(JWT_SECRET, { sub: randomUUID(), tenantId, customerId: null, role: 'admin' })}`,
    };
    const customer = (await post('/v1/customers', admin, { name: 'C' })).id;
    const instance = (await post('/v1/instances', admin, { name: 'I' })).id;
    const runtime = {
      Authorization: `Bearer ${(await post(`/v1/instances/${instance}/proxy-keys`, admin, {})).key}`,
    };
    await post('/v1/webhook-endpoints', admin, { url: receiver.url });
    for (let i = 0; i < EVENTS; i++) {
      await post(`/internal/v1/instances/${instance}/workflows`, runtime, {
        customer_id: customer,
        workflow_type: 'maintenance',
      });
    }
    await receiver.waitFor(EVENTS);
    first.child.kill('SIGKILL');
    await first.exited;
    const unanswered = new Set(receiver.received.map((r) => r.headers['webhook-id']));
    expect(unanswered.size).toBe(EVENTS);

    receiver.answer = () => ({});
    apps.push(await startBuilt(await freePort(), databaseUrl, { env: ENV }));
    await receiver.waitFor(2 * EVENTS, LEASE_MS + 20_000);
    const again = receiver.received.slice(EVENTS);
    // The same events, each once, and none before the dead replica's lease ran out: its claim
    // was made moments before its attempt reached the receiver.
    expect(new Set(again.map((r) => r.headers['webhook-id']))).toEqual(unanswered);
    expect(again).toHaveLength(EVENTS);
    const firstTry = new Map(
      receiver.received.slice(0, EVENTS).map((r) => [r.headers['webhook-id'], r.at]),
    );
    for (const r of again) {
      expect(r.at - firstTry.get(r.headers['webhook-id'])!).toBeGreaterThan(LEASE_MS - 1_000);
    }

    observer = new Client({ connectionString: withDatabase(server.adminUrl, database) });
    await observer.connect();
    await sleep(500);
    const { rows } = await observer.query<{ status: string; attempts: number }>(
      'SELECT status, attempts FROM webhook_deliveries WHERE tenant_id = $1',
      [tenantId],
    );
    expect(rows).toEqual(Array(EVENTS).fill({ status: 'succeeded', attempts: 2 }));
  }, 90_000);
});
