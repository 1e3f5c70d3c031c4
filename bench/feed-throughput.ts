/**
 * The feed figure of `npm run bench`: how many events a second one consumer reads through
 * `GET /internal/v1/instances/{instance_id}/events`, paging by `after` with the largest `limit`
 * allowed, through a backlog already in the log. The backlog is workflow events, each carrying
 * its workflow as the API records it (state and a three-entry history), numbered and evaluated,
 * as a tenant's log stands once the sequencer and the rules have caught up.
 *
 * `node dist/bench/feed-throughput.js` measures it alone, on a database of its own.
 */
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { freePort } from '../src/database/embedded';
import { FEED } from '../src/event-log/dto/event-feed.dto';
import { apiEnv, withBenchDatabase } from './bench-database';
import { ROOT, cpuMs, log, productionFlags, startProcess, stopProcess } from './processes';
import { seedTenant } from './seed';

const EVENTS = Number(process.env.BENCH_FEED_EVENTS ?? 100_000);
/** Workflows the events are about: each event is one of them as it stood. */
const WORKFLOWS = 2000;

export interface FeedThroughput {
  events: number;
  /** Average size of an event's data as stored (jsonb as text), in bytes. */
  eventBytes: number;
  limit: number;
  pages: number;
  eventsPerSecond: number;
  pageP50Ms: number;
  pageP99Ms: number;
  /** The API's CPU time per page answered. */
  apiCpuMsPerPage: number;
  /** Every position from 1 to `events` read once, in order. */
  gapFree: boolean;
}

/** Seeds the backlog into a tenant of its own: numbered, and evaluated through its end. */
async function seedBacklog(
  db: Client,
): Promise<{ instanceId: string; proxyKey: string; eventBytes: number }> {
  const tenant = await seedTenant(db, 'Feed', WORKFLOWS);
  await db.query('BEGIN');
  try {
    await db.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenant.tenantId]);
    await db.query(
      `WITH w AS (
         SELECT row_number() OVER (ORDER BY id) - 1 AS k, instance_id, customer_id,
                to_jsonb(workflows) - 'tenant_id' - 'document_bytes' - 'due_announced_for' AS doc
           FROM workflows WHERE tenant_id = $1)
       INSERT INTO events (tenant_id, sequence, type, instance_id, customer_id, depth, data)
       SELECT $1, g, 'workflow.' || (ARRAY['created', 'stage_changed', 'status_changed'])[1 + g % 3],
              w.instance_id, w.customer_id, 0, jsonb_build_object('workflow', w.doc)
         FROM generate_series(1, $2) g JOIN w ON w.k = g % $3
        ORDER BY g`,
      [tenant.tenantId, EVENTS, WORKFLOWS],
    );
    await db.query(
      `INSERT INTO event_sequences (tenant_id, last) VALUES ($1, $2)
       ON CONFLICT (tenant_id) DO UPDATE SET last = EXCLUDED.last`,
      [tenant.tenantId, EVENTS],
    );
    // Its rules have seen it all: the evaluator has nothing to do while the pager reads.
    await db.query(
      `INSERT INTO event_evaluation_cursors (tenant_id, evaluated_through) VALUES ($1, $2)
       ON CONFLICT (tenant_id) DO UPDATE SET evaluated_through = EXCLUDED.evaluated_through`,
      [tenant.tenantId, EVENTS],
    );
    const { rows } = await db.query<{ bytes: number }>(
      `SELECT avg(octet_length(data::text))::int AS bytes FROM events WHERE tenant_id = $1`,
      [tenant.tenantId],
    );
    await db.query('COMMIT');
    await db.query('ANALYZE events');
    return { ...tenant, eventBytes: rows[0].bytes };
  } catch (error) {
    await db.query('ROLLBACK');
    throw error;
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

/** Runs an API process against `url`, seeds the backlog, and reads it through in one pass. */
export async function feedThroughput(url: string): Promise<FeedThroughput> {
  const port = await freePort();
  // Started before the backlog is written, so nothing wakes its background work on it.
  const api = await startProcess(
    [...productionFlags(), `${ROOT}/dist/src/main.js`],
    { ...apiEnv(url), PORT: String(port) },
    'listening',
  );
  const db = new Client({ connectionString: url });
  db.on('error', () => undefined); // a failure surfaces from the query that met it
  await db.connect();
  try {
    const { instanceId, proxyKey, eventBytes } = await seedBacklog(db);
    const base = `http://127.0.0.1:${port}/internal/v1/instances/${instanceId}/events`;
    const headers = { authorization: `Bearer ${proxyKey}` };
    const read = async (after: number) => {
      const res = await fetch(`${base}?after=${after}&limit=${FEED.maxLimit}`, { headers });
      if (res.status !== 200) throw new Error(`feed answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as {
        events: { sequence: number }[];
        next_after: number;
        has_more: boolean;
      };
    };
    // Warm-up (JIT, the connection pool), on the backlog's tail so the pass below reads it cold.
    for (let i = 0; i < 10; i++) await read(EVENTS - FEED.maxLimit * (i + 1));

    const pageMs: number[] = [];
    let after = 0;
    let expected = 1;
    let gapFree = true;
    const cpuBefore = cpuMs(api.pid!);
    const started = performance.now();
    for (;;) {
      const t0 = performance.now();
      const page = await read(after);
      pageMs.push(performance.now() - t0);
      for (const e of page.events) gapFree &&= e.sequence === expected++;
      after = page.next_after;
      if (!page.has_more) break;
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuMs(api.pid!) - cpuBefore;
    const sorted = [...pageMs].sort((a, b) => a - b);
    return {
      events: expected - 1,
      eventBytes,
      limit: FEED.maxLimit,
      pages: pageMs.length,
      eventsPerSecond: Math.round((expected - 1) / seconds),
      pageP50Ms: Math.round(percentile(sorted, 0.5)),
      pageP99Ms: Math.round(percentile(sorted, 0.99)),
      apiCpuMsPerPage: Math.round((10 * cpu) / pageMs.length) / 10,
      gapFree: gapFree && expected - 1 === EVENTS,
    };
  } finally {
    await db.end();
    await stopProcess(api);
  }
}

export function describeFeedThroughput(r: FeedThroughput): string {
  return (
    `${r.eventsPerSecond} events/s through ${r.events} events of ${r.eventBytes} bytes ` +
    `(${r.pages} pages of ${r.limit}, page p50 ${r.pageP50Ms} ms, p99 ${r.pageP99Ms} ms, ` +
    `API ${r.apiCpuMsPerPage} ms of CPU a page), ${r.gapFree ? 'gap-free' : 'NOT gap-free'}`
  );
}

if (require.main === module) {
  withBenchDatabase('hydracore-feed', async ({ url }) => {
    log(`Feed: one pager through ${EVENTS} events…`);
    log(`  ${describeFeedThroughput(await feedThroughput(url))}`);
  }).catch((error: unknown) => {
    process.stderr.write(`feed-throughput: ${String((error as Error).stack ?? error)}\n`);
    process.exit(1);
  });
}
