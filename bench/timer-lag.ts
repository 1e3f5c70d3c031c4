/**
 * The timers figure of `npm run bench`: 10,000 workflows of one tenant whose next_action_at all
 * fall in the same minute, announced by the built API with its timers on. A workflow's lag is
 * when its `workflow.due` was recorded (the event's occurred_at) less its next_action_at.
 *
 * `node dist/bench/timer-lag.js` measures it alone, on a database of its own.
 */
import { Client } from 'pg';
import { freePort } from '../src/database/embedded';
import { apiEnv, withBenchDatabase } from './bench-database';
import { ROOT, log, productionFlags, startProcess, stopProcess } from './processes';
import { seedTenant } from './seed';

const WORKFLOWS = 10_000;
/** The times are spread over this minute, which starts this long after the rows are written. */
const LEAD_S = 5;
const SPREAD_S = 60;
/** How long after the last time the run waits for the last announcement before giving up. */
const GRACE_S = 30;

export interface TimerLag {
  workflows: number;
  announced: number;
  /** Workflows announced more than once (never, if exactly once holds). */
  duplicates: number;
  /** Announcements recorded before their time. */
  early: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Runs an API process with its timers on against `url` and measures the lag. */
export async function timerLag(url: string): Promise<TimerLag> {
  const port = await freePort();
  const api = await startProcess(
    [...productionFlags(), `${ROOT}/dist/src/main.js`],
    // The timers run every second whatever the sweep interval above that.
    { ...apiEnv(url), SWEEP_INTERVAL_MS: '60000', PORT: String(port) },
    'listening',
  );
  const db = new Client({ connectionString: url });
  db.on('error', () => undefined); // a failure surfaces from the query that met it
  await db.connect();
  try {
    const { tenantId, instanceId, customerIds } = await seedTenant(db, 'Timers', 0);
    const inTenant = async <T>(sql: string, params: unknown[]): Promise<T[]> => {
      await db.query('BEGIN');
      try {
        await db.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
        const { rows } = await db.query(sql, params);
        await db.query('COMMIT');
        return rows as T[];
      } catch (error) {
        await db.query('ROLLBACK');
        throw error;
      }
    };
    await inTenant(
      `INSERT INTO workflows (tenant_id, instance_id, customer_id, workflow_type, status, stage,
          workflow_state, history, next_action_at, last_action_at)
       SELECT $1, $2, ($3::uuid[])[1 + g % 10], 'rent_arrears', 'active', 'chasing',
              jsonb_build_object('unit', g), '[]'::jsonb,
              now() + make_interval(secs => $5 + random() * $6), now()
         FROM generate_series(1, $4) g`,
      [tenantId, instanceId, customerIds, WORKFLOWS, LEAD_S, SPREAD_S],
    );
    const deadline = Date.now() + (LEAD_S + SPREAD_S + GRACE_S) * 1000;
    let announced = 0;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const [row] = await inTenant<{ n: string }>(
        `SELECT count(*) AS n FROM events WHERE tenant_id = $1 AND type = 'workflow.due'`,
        [tenantId],
      );
      announced = Number(row.n);
      if (announced >= WORKFLOWS) break;
    }
    const [stats] = await inTenant<Record<string, string | null>>(
      `WITH lag AS (
         SELECT data->'workflow'->>'id' AS id,
                extract(epoch FROM occurred_at - (data->'workflow'->>'next_action_at')::timestamptz)
                  * 1000 AS ms
           FROM events WHERE tenant_id = $1 AND type = 'workflow.due')
       SELECT count(*) - count(DISTINCT id) AS duplicates,
              count(*) FILTER (WHERE ms < 0) AS early,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99,
              max(ms) AS max
         FROM lag`,
      [tenantId],
    );
    return {
      workflows: WORKFLOWS,
      announced,
      duplicates: Number(stats.duplicates),
      early: Number(stats.early),
      p50Ms: Math.round(Number(stats.p50)),
      p99Ms: Math.round(Number(stats.p99)),
      maxMs: Math.round(Number(stats.max)),
    };
  } finally {
    await db.end();
    await stopProcess(api);
  }
}

export function describeTimerLag(r: TimerLag): string {
  return (
    `${r.announced} of ${r.workflows} announced, lag p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ` +
    `max ${r.maxMs} ms, ${r.duplicates} announced twice, ${r.early} early`
  );
}

if (require.main === module) {
  withBenchDatabase('hydracore-timers', async ({ url }) => {
    log(`Timers: ${WORKFLOWS} workflows due in the same minute…`);
    log(`  ${describeTimerLag(await timerLag(url))}`);
  }).catch((error: unknown) => {
    process.stderr.write(`timer-lag: ${String((error as Error).stack ?? error)}\n`);
    process.exit(1);
  });
}
