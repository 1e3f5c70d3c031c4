/**
 * The webhook figures of `npm run bench`, from an API with http and private (loopback)
 * destinations allowed, sending to node:http receivers that answer 200 at once
 * (bench/webhook-receiver.ts, a child process):
 *
 * - throughput: EVENTS events POSTed as fast as 32 connections go, to a tenant with one
 *   endpoint; deliveries a second from the first event's occurred_at to the last arrival, the
 *   API's CPU per delivery, and each delivery's lag (arrival less occurred_at). The same events
 *   sent first to a tenant with no endpoint say what taking them in costs without webhooks.
 * - cost: scenario 3 (POST a workflow then PATCH it), built by bench/scenarios.ts, in a tenant
 *   with no endpoint and in one with three on `*`, in ABBA rounds so drift favours neither. The
 *   side with endpoints is charged the CPU until its receivers have every delivery.
 *
 * bench/webhooks-report.ts puts the figures in words and runs them alone.
 */
import autocannon from 'autocannon';
import { CONNECTIONS, WebhookHarness } from './webhook-harness';
import { log } from './processes';
import { scenarios } from './scenarios';
import { SeededTenant, seedTenant } from './seed';

const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 5000);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP_S = 3;
const COST_ENDPOINTS = ['/a', '/b', '/c'];
/** Rounds of scenario 3 per side, in the order off, on, on, off, … */
const COST_ROUNDS = 2;

export interface WebhookThroughput {
  events: number;
  /** Events a second the API took in while delivering (the POSTs' own rate). */
  eventsPerSecond: number;
  delivered: number;
  duplicates: number;
  /** Deliveries the database shows attempted more than once (each receiver answered 200). */
  attemptedAgain: number;
  unsigned: number;
  seconds: number;
  deliveriesPerSecond: number;
  /** From the first POST to the last delivery, over deliveries: taking the event in included. */
  apiCpuMsPerDelivery: number;
  /** The same events into a tenant with no endpoint, from the first POST until fanned out. */
  apiCpuMsPerEventWithout: number;
  dbCpuMsPerDelivery: number;
  dbCpuMsPerEventWithout: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
}

export interface Scenario3Side {
  rps: number;
  requests: number;
  p99: number;
  failed: number;
  /** Until the load ended. */
  apiCpuMsPerRequestDuringLoad: number;
  /** Until the receivers had every delivery of the load's events (as the load's alone, without). */
  apiCpuMsPerRequest: number;
  dbCpuMsPerRequest: number;
  /** After the load, until the last delivery arrived. */
  drainSeconds: number;
  deliveries: number;
  duplicates: number;
  attemptedAgain: number;
}

export interface WebhookCost {
  endpoints: number;
  rounds: number;
  without: Scenario3Side;
  with: Scenario3Side;
}

export interface WebhookBench {
  throughput?: WebhookThroughput;
  cost?: WebhookCost;
}

const round2 = (x: number) => Math.round(100 * x) / 100;

export async function webhookBench(
  url: string,
  pgDir: string,
  parts: { throughput: boolean; cost: boolean } = { throughput: true, cost: true },
): Promise<WebhookBench> {
  return WebhookHarness.run(url, pgDir, async (h) => ({
    throughput: parts.throughput ? await throughput(h) : undefined,
    cost: parts.cost ? await cost(h) : undefined,
  }));
}

async function throughput(h: WebhookHarness): Promise<WebhookThroughput> {
  const control = await seedTenant(h.db, 'Webhooks control', 0);
  const cpu0 = h.cpu();
  await h.postEvents(control, EVENTS);
  await h.until(async () => (await h.fannedOut(control)) >= EVENTS, 'control fan-out');
  const without = h.since(cpu0);

  const hooked = await seedTenant(h.db, 'Webhooks throughput', 0);
  await h.endpoint(hooked, '/single');
  await h.stats('DELETE');
  const cpu1 = h.cpu();
  const started = Date.now();
  await h.postEvents(hooked, EVENTS);
  const eventsPerSecond = Math.round(EVENTS / ((Date.now() - started) / 1000));
  await h.until(async () => ((await h.stats())['/single']?.distinct ?? 0) >= EVENTS, 'deliveries');
  const used = h.since(cpu1);
  const s = (await h.stats('GET', true))['/single'];
  const { again } = await h.attempts(hooked);
  const seconds = (s.lastArrivalMs - s.firstOccurredMs) / 1000;
  return {
    events: EVENTS,
    eventsPerSecond,
    delivered: s.distinct,
    duplicates: s.duplicates,
    attemptedAgain: again,
    unsigned: s.unsigned,
    seconds: round2(seconds),
    deliveriesPerSecond: Math.round(s.distinct / seconds),
    apiCpuMsPerDelivery: round2(used.api / s.distinct),
    apiCpuMsPerEventWithout: round2(without.api / EVENTS),
    dbCpuMsPerDelivery: round2(used.db / s.distinct),
    dbCpuMsPerEventWithout: round2(without.db / EVENTS),
    lagP50Ms: s.lagP50Ms!,
    lagP99Ms: s.lagP99Ms!,
    lagMaxMs: s.lagMaxMs!,
  };
}

async function cost(h: WebhookHarness): Promise<WebhookCost> {
  const plain = await seedTenant(h.db, 'Scenario 3 without webhooks', 2000);
  const hooked = await seedTenant(h.db, 'Scenario 3 with webhooks', 2000);
  await h.db.query('ANALYZE');
  for (const path of COST_ENDPOINTS) await h.endpoint(hooked, path);
  await h.stats('DELETE');
  const sides = { without: [] as Run[], with: [] as Run[] };
  await scenario3(h, plain, false, WARMUP_S);
  await scenario3(h, hooked, true, WARMUP_S);
  for (let i = 0; i < COST_ROUNDS; i++) {
    const order = i % 2 === 0 ? [false, true] : [true, false];
    for (const on of order) {
      const run = await scenario3(h, on ? hooked : plain, on, DURATION_S);
      (on ? sides.with : sides.without).push(run);
      log(
        `    ${on ? 'with' : 'without'} endpoints: ${Math.round(run.requests / run.seconds)} req/s, ` +
          `API ${round2(run.api / run.requests)} ms/request` +
          (on
            ? ` (${round2(run.apiLoad / run.requests)} during the load, drained in ${run.drain} s)`
            : ''),
      );
    }
  }
  const stats = await h.stats();
  const side = (runs: Run[]): Scenario3Side => {
    const sum = (f: (r: Run) => number) => runs.reduce((n, r) => n + f(r), 0);
    const requests = sum((r) => r.requests);
    return {
      rps: Math.round(requests / sum((r) => r.seconds)),
      requests,
      p99: Math.max(...runs.map((r) => r.p99)),
      failed: sum((r) => r.failed),
      apiCpuMsPerRequestDuringLoad: round2(sum((r) => r.apiLoad) / requests),
      apiCpuMsPerRequest: round2(sum((r) => r.api) / requests),
      dbCpuMsPerRequest: round2(sum((r) => r.db) / requests),
      drainSeconds: Math.max(...runs.map((r) => r.drain)),
      deliveries: 0,
      duplicates: 0,
      attemptedAgain: 0,
    };
  };
  const withSide = side(sides.with);
  withSide.attemptedAgain = (await h.attempts(hooked)).again;
  for (const path of COST_ENDPOINTS) {
    withSide.deliveries += stats[path]?.distinct ?? 0;
    withSide.duplicates += stats[path]?.duplicates ?? 0;
  }
  return {
    endpoints: COST_ENDPOINTS.length,
    rounds: COST_ROUNDS,
    without: side(sides.without),
    with: withSide,
  };
}

/** One load of scenario 3; with endpoints, it ends when every delivery has arrived. */
async function scenario3(
  h: WebhookHarness,
  tenant: SeededTenant,
  hooked: boolean,
  seconds: number,
): Promise<Run> {
  const token = h.token(tenant);
  const spec = scenarios({ api: h.api, baseline: '' }, tenant, () => token, tenant, tenant);
  const { options } = spec.find((s) => s.name.startsWith('3.'))!;
  const cpu0 = h.cpu();
  const r = await autocannon({ ...options, connections: CONNECTIONS, duration: seconds });
  const loaded = h.since(cpu0);
  const ended = Date.now();
  if (hooked) {
    const expected = COST_ENDPOINTS.length * (await h.eventCount(tenant));
    await h.until(async () => {
      const s = await h.stats();
      return COST_ENDPOINTS.reduce((n, p) => n + (s[p]?.distinct ?? 0), 0) >= expected;
    }, 'scenario 3 deliveries');
  }
  const used = h.since(cpu0);
  return {
    requests: r.requests.total,
    seconds: r.duration,
    p99: r.latency.p99,
    failed: r.errors + r.timeouts + r.non2xx,
    apiLoad: loaded.api,
    api: used.api,
    db: used.db,
    drain: Math.round((Date.now() - ended) / 100) / 10,
  };
}

interface Run {
  requests: number;
  seconds: number;
  p99: number;
  failed: number;
  apiLoad: number;
  api: number;
  db: number;
  drain: number;
}
