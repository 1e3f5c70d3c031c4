import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { TenantDb } from '../../src/database/tenant-db';
import { OutboxRelay } from '../../src/outbox/outbox-relay';
import { OutboxRepository } from '../../src/outbox/outbox.repository';
import { TestApp, startTestApp } from '../helpers/app';
import { ApprovalWorld, INTENT, SECRET, approvalCalls } from '../helpers/approval-world';
import { TenantSession } from '../helpers/factories';
import { startAppOnSameDatabase } from '../helpers/same-database-app';

/**
 * Three replicas relay one database's outbox to a slow receiver: sixty messages take longer to
 * send one after another than a claim's lease lasts. Every message must reach it exactly once,
 * never twice at once, and a replica that dies holding a claim must lose nothing.
 */
const HOLD_MS = 2_000;
/** Three times the hold, so a loaded machine's delays do not turn into timeouts and retries. */
const TIMEOUT_MS = 6_000;
const LEASE_MS = 8_000;
const MESSAGES = 60;

interface Delivery {
  id: string;
  startedAt: number;
  endedAt?: number;
}

/** A loopback receiver holding each request HOLD_MS before its 200, recording when each ran. */
async function slowReceiver() {
  const deliveries: Delivery[] = [];
  const open = new Map<string, number>();
  let overlaps = 0;
  let abandoned = 0;
  let silent = false;
  const server = createServer((req, res) => {
    const id = String(req.headers['idempotency-key']);
    const delivery: Delivery = { id, startedAt: Date.now() };
    deliveries.push(delivery);
    open.set(id, (open.get(id) ?? 0) + 1);
    if (open.get(id)! > 1) overlaps++;
    req.resume();
    res.on('close', () => {
      if (!res.writableFinished) abandoned++; // the relay gave up on it
      delivery.endedAt ??= Date.now();
    });
    if (silent) return; // never answers: the relay must give up, and close the connection
    setTimeout(() => {
      open.set(id, open.get(id)! - 1);
      delivery.endedAt = Date.now();
      res.writeHead(200).end();
    }, HOLD_MS);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/replay`;
  const perMessage = () => {
    const counts = new Map<string, number>();
    for (const d of deliveries) counts.set(d.id, (counts.get(d.id) ?? 0) + 1);
    return counts;
  };
  return {
    server,
    url,
    deliveries,
    perMessage,
    overlaps: () => overlaps,
    abandoned: () => abandoned,
    silence: (on: boolean) => (silent = on),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('outbox relay on several replicas', () => {
  let hook: Awaited<ReturnType<typeof slowReceiver>>;
  let t: TestApp;
  let a: TenantSession;
  let world: ApprovalWorld;
  let replicas: NestFastifyApplication[] = [];

  beforeAll(async () => {
    hook = await slowReceiver();
    t = await startTestApp({
      REPLAY_WEBHOOK_URL: hook.url,
      REPLAY_WEBHOOK_SECRET: SECRET,
      OUTBOX_TIMEOUT_MS: String(TIMEOUT_MS),
      OUTBOX_LEASE_MS: String(LEASE_MS),
      OUTBOX_CONCURRENCY: '10',
    });
    a = await TenantSession.create(t, 'Relay');
    const customer = await a.customer();
    const instance = await a.instance();
    const runtime = (await a.proxyKey(instance)).headers;
    const base = `/internal/v1/instances/${instance}/approvals`;
    world = { t, a, customer, instance, runtime, base } as ApprovalWorld;
    replicas = [t.app, await startAppOnSameDatabase(t), await startAppOnSameDatabase(t)];
  });
  afterAll(async () => {
    for (const replica of replicas.slice(1)) await replica.close();
    await t.close();
    hook.server.closeAllConnections();
    hook.server.close();
  });

  const { pending, resolve } = approvalCalls(() => world);
  const approve = async (n: number) => {
    const p = await pending({ serialized_intent: { ...INTENT, n } });
    await resolve(p.approval_ref).expect(200);
    return p.id as string;
  };
  const outboxRows = async () =>
    (
      await t.raw.query<{ id: string; approval_id: string; status: string; attempts: number }>(
        'SELECT id, approval_id, status, attempts FROM outbox WHERE tenant_id = $1',
        [a.tenantId],
      )
    ).rows;
  /** Runs every replica's relay in a loop until `done`, or gives up after `withinMs`. */
  const relayUntil = async (done: () => Promise<boolean>, withinMs: number, apps = replicas) => {
    const end = Date.now() + withinMs;
    let finished = false;
    const loop = async (app: NestFastifyApplication) => {
      while (!finished && Date.now() < end) {
        await app.get(OutboxRelay).runOnce();
        await sleep(25);
      }
    };
    const watch = async () => {
      while (!finished && Date.now() < end) {
        if (await done()) finished = true;
        else await sleep(100);
      }
      finished = true;
    };
    const loops = Promise.all(apps.map(loop));
    await watch();
    // A pass still sending when the watch ends is not waited for past one attempt's lease.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([loops, new Promise((resolve) => (timer = setTimeout(resolve, LEASE_MS)))]);
    clearTimeout(timer);
  };

  it('delivers each of 60 messages exactly once while three replicas relay at once', async () => {
    const ids = new Set<string>();
    for (let n = 0; n < MESSAGES; n += 10) {
      const made = await Promise.all([...Array(10).keys()].map((i) => approve(n + i)));
      made.forEach((id) => ids.add(id));
    }
    const started = Date.now();
    await relayUntil(
      async () => (await outboxRows()).every((r) => r.status === 'delivered'),
      45_000,
    );
    const rows = await outboxRows();
    expect(rows).toHaveLength(MESSAGES);
    expect(new Set(rows.map((r) => r.approval_id))).toEqual(ids);
    const counts = hook.perMessage();
    const twice = [...counts.values()].filter((c) => c > 1).length;
    expect({
      messages: counts.size,
      deliveries: hook.deliveries.length,
      twice,
      overlaps: hook.overlaps(),
      abandoned: hook.abandoned(),
    }).toEqual({
      messages: MESSAGES,
      deliveries: MESSAGES,
      twice: 0,
      overlaps: 0,
      abandoned: 0,
    });
    expect(rows.every((r) => r.status === 'delivered' && r.attempts === 1)).toBe(true);
    // Ten at once per replica: two rounds of the receiver's hold, not sixty one after another.
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);

  it('leaves a message claimed by a replica that died to another once its lease has run out', async () => {
    const approvalId = await approve(MESSAGES);
    const [dead, ...alive] = replicas;
    // The dead replica's claim commits, then nothing more: no delivery, no outcome recorded.
    const [claimed] = await dead
      .get(TenantDb)
      .run(a.tenantId, () => dead.get(OutboxRepository).claimDue(a.tenantId, 1, LEASE_MS));
    expect(claimed).toMatchObject({ approvalId, attempts: 1 });
    const leaseEnds = claimed.nextAttemptAt.getTime();
    const before = hook.deliveries.length;
    await relayUntil(
      async () =>
        (await outboxRows()).some((r) => r.approval_id === approvalId && r.status === 'delivered'),
      LEASE_MS + 10_000,
      alive,
    );
    const late = hook.deliveries.slice(before);
    expect(late.map((d) => d.id)).toEqual([claimed.id]);
    expect(late[0].startedAt).toBeGreaterThanOrEqual(leaseEnds);
    const row = (await outboxRows()).find((r) => r.id === claimed.id);
    expect(row).toMatchObject({ status: 'delivered', attempts: 2 });
  }, 30_000);

  it('lets only the current claim record an outcome, not one whose lease another took over', async () => {
    const approvalId = await approve(MESSAGES + 1);
    const [first, second] = replicas;
    const claim = (app: NestFastifyApplication, leaseMs: number) =>
      app
        .get(TenantDb)
        .run(a.tenantId, () => app.get(OutboxRepository).claimDue(a.tenantId, 1, leaseMs));
    const as = <T>(app: NestFastifyApplication, work: (repo: OutboxRepository) => Promise<T>) =>
      app.get(TenantDb).run(a.tenantId, () => work(app.get(OutboxRepository)));
    const [stale] = await claim(first, 100);
    expect(stale).toMatchObject({ approvalId, attempts: 1 });
    await sleep(200);
    const [current] = await claim(second, LEASE_MS);
    expect(current).toMatchObject({ id: stale.id, attempts: 2 });
    // The first claim's attempt finishes late: neither outcome may overwrite the second's state.
    expect(await as(first, (r) => r.markDelivered(a.tenantId, stale.id, 1))).toBe(false);
    expect(await as(first, (r) => r.markFailed(a.tenantId, stale.id, 1, 'late', null))).toBe(false);
    await as(first, (r) => r.release(a.tenantId, stale.id, 1));
    const row = async () =>
      (await t.raw.query('SELECT * FROM outbox WHERE id = $1', [stale.id])).rows[0];
    expect(await row()).toMatchObject({
      status: 'pending',
      attempts: 2,
      last_error: null,
      next_attempt_at: current.nextAttemptAt,
    });
    expect(await as(second, (r) => r.markFailed(a.tenantId, stale.id, 2, 'HTTP 500', 60_000))).toBe(
      true,
    );
    expect(await row()).toMatchObject({ status: 'pending', attempts: 2, last_error: 'HTTP 500' });
  });

  it('gives up on a receiver that never answers within the timeout, before the lease ends', async () => {
    const approvalId = await approve(MESSAGES + 2);
    const timeoutMs = 1_000;
    const replica = await startAppOnSameDatabase(t, { outbox: { ...t.config.outbox, timeoutMs } });
    hook.silence(true);
    const before = hook.deliveries.length;
    try {
      const started = Date.now();
      expect(await replica.get(OutboxRelay).runOnce()).toBe(1);
      expect(Date.now() - started).toBeLessThan(timeoutMs + 3_000);
    } finally {
      hook.silence(false);
      await replica.close();
    }
    const [attempt] = hook.deliveries.slice(before);
    // The connection is closed by the time the outcome is recorded, well inside the lease.
    expect(attempt.endedAt! - attempt.startedAt).toBeLessThan(timeoutMs + 3_000);
    const [row] = (await t.raw.query('SELECT * FROM outbox WHERE approval_id = $1', [approvalId]))
      .rows;
    expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    expect(row.last_error).toMatch(/^timed out after \d+ ms$/);
  });
});
