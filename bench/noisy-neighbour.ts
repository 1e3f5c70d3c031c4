/**
 * The noisy-neighbour scenario of `npm run bench`: tenant A reads its workflow list alone, then
 * again while tenant B storms one row with concurrent changes and reads pages of its heaviest
 * workflows, in alternating rounds. A's p99 and errors side by side are what fairness means in
 * numbers.
 */
import autocannon, { Options, Result } from 'autocannon';
import { Client } from 'pg';
import { log } from './processes';
import { SeededTenant, seedTenant } from './seed';

const A_CONNECTIONS = 8;
/**
 * A's requests a second, steady: about a third of what this machine serves A alone, as a tenant
 * using the product sends, not as much as it can. A tenant driving the machine flat out would
 * see its latency double beside any other by fair sharing alone, which measures the share, not
 * whether B can hurt A.
 */
const A_RATE = 100;
/**
 * Rounds of A alone then A beside B, their latencies pooled. A p99 of one ten-second phase at
 * 100 requests a second is its tenth-slowest request, and moved between runs by as much as the
 * attack did; alternating also spreads the machine's drift over both sides alike.
 */
const NOISY_ROUNDS = Number(process.env.BENCH_NOISY_ROUNDS ?? 3);
const STORM_CONNECTIONS = 60;
const HEAVY_CONNECTIONS = 4;
/** Empty objects per heavy state: 256 KiB as stored ("{}, " four bytes each), the cap. */
const HEAVY_ITEMS = 65_500;
const HEAVY_WORKFLOWS = 70;
/** `deep`: B's small workflows, and how many connections ask for a page past the last. */
const DEEP_WORKFLOWS = 133_000;
const DEEP_CONNECTIONS = 8;

export interface NoisyNeighbour {
  alone: Side;
  beside: Side;
  storm: Side;
  heavy: Side;
  /** A's p99 alone and beside B, round by round: the spread behind the pooled figures. */
  rounds: NoisyRound[];
}

export interface NoisyRound {
  alone: number;
  beside: number;
}

interface Side {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/**
 * Tenant B: `stormWorkflowIds`, a fresh target for each round's storm (a history that reached its
 * cap would turn the storm into cheap refusals); `quietWorkflowId`, one no storm touches.
 */
export interface NoisyTenant extends SeededTenant {
  stormWorkflowIds: string[];
  quietWorkflowId: string;
}

/**
 * Tenant B: one active workflow to storm, and HEAVY_WORKFLOWS whose state is an array of empty
 * objects, beside the small workflows every seeded tenant has.
 */
export async function seedNoisyTenant(db: Client): Promise<NoisyTenant> {
  const b = await seedTenant(db, 'Noisy', 10);
  await db.query('BEGIN');
  await db.query(`SELECT set_config('app.tenant_id', $1, true)`, [b.tenantId]);
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO workflows (tenant_id, instance_id, customer_id, workflow_type, status, history)
     SELECT $1, $2, $3, 'lead', 'active', '[]' FROM generate_series(1, $4) RETURNING id`,
    [b.tenantId, b.instanceId, b.customerIds[0], NOISY_ROUNDS],
  );
  await db.query(
    `INSERT INTO workflows (tenant_id, instance_id, customer_id, workflow_type, status, workflow_state, history)
     SELECT $1, $2, $3, 'custom', 'paused',
            jsonb_build_object('items', (SELECT jsonb_agg('{}'::jsonb) FROM generate_series(1, $4))),
            '[]'::jsonb
       FROM generate_series(1, $5)`,
    [b.tenantId, b.instanceId, b.customerIds[0], HEAVY_ITEMS, HEAVY_WORKFLOWS],
  );
  await db.query('COMMIT');
  return { ...b, stormWorkflowIds: rows.map((r) => r.id), quietWorkflowId: b.workflowId };
}

/**
 * For `deep`: DEEP_WORKFLOWS more small workflows of B, so that a page past its last walks them
 * all, as a tenant paging without end (or asking for page 100,000) makes the database do.
 */
export async function seedDeepPages(db: Client, b: NoisyTenant): Promise<void> {
  await db.query('BEGIN');
  await db.query(`SELECT set_config('app.tenant_id', $1, true)`, [b.tenantId]);
  await db.query(
    `INSERT INTO workflows (tenant_id, instance_id, customer_id, workflow_type, history)
     SELECT $1, $2, $3, 'lead', '[]' FROM generate_series(1, $4)`,
    [b.tenantId, b.instanceId, b.customerIds[0], DEEP_WORKFLOWS],
  );
  await db.query('COMMIT');
}

/**
 * A's latencies, kept here rather than read from autocannon's histogram. At a steady rate
 * autocannon corrects for coordinated omission with an expected interval of `ceil(1 / rate)`,
 * one millisecond for any rate it is given a second, so a response of v ms is also counted at
 * v − 1, v − 2, … 1 ms: in the upper percentiles one slow request weighs as much as dozens of
 * quick ones. Nor would a correction at A's mean interval be right: each connection sends its
 * share of a second's requests back to back and then waits for the next second, so a slow
 * response delays the rest of its burst rather than skipping requests. Each 2xx is kept once,
 * as it was measured.
 */
class Latencies {
  readonly samples: number[] = [];

  record(statusCode: number, ms: number): void {
    if (statusCode >= 200 && statusCode < 300) this.samples.push(ms);
  }

  sorted(): number[] {
    return [...this.samples].sort((x, y) => x - y);
  }
}

/** The nearest-rank percentile: the smallest value with at least p of the samples at or below it. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.max(0, Math.ceil(sorted.length * p) - 1)]);
}

/** One side's figures over every round: latencies pooled, counts summed, req/s averaged. */
function side(results: Result[], latencies: Latencies): Side {
  const sorted = latencies.sorted();
  const sum = (f: (r: Result) => number) => results.reduce((n, r) => n + f(r), 0);
  return {
    rps: Math.round(sum((r) => r.requests.average) / Math.max(1, results.length)),
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    errors: sum((r) => r.errors + r.timeouts),
    non2xx: sum((r) => r.non2xx),
  };
}

const p99Of = (latencies: Latencies) => percentile(latencies.sorted(), 0.99);

/** B's side: autocannon's own figures (B's load is not paced), averaged over the rounds. */
function sideOf(results: Result[]): Side {
  const mean = (f: (r: Result) => number) =>
    Math.round(results.reduce((n, r) => n + f(r), 0) / results.length);
  return {
    rps: mean((r) => r.requests.average),
    p50: mean((r) => r.latency.p50),
    p99: mean((r) => r.latency.p99),
    errors: results.reduce((n, r) => n + r.errors + r.timeouts, 0),
    non2xx: results.reduce((n, r) => n + r.non2xx, 0),
  };
}

/** Runs one autocannon load, handing each response's status and time to `latencies`. */
function measured(options: Options, latencies: Latencies): Promise<Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (error, result) =>
      error ? reject(error as Error) : resolve(result),
    );
    instance.on('response', (_client, statusCode, _bytes, ms) => latencies.record(statusCode, ms));
  });
}

/**
 * What B runs beside A: both hostile loads in `npm run bench`; one of them, to tell which hurts;
 * or `reads`, a control that is not hostile at all: B's reads of one small workflow, flat out from
 * the storm's sixty connections, to compare the attacks with a neighbour that is merely busy;
 * or `deep`, B asking for a page past the last of its DEEP_WORKFLOWS (seeded by seedDeepPages).
 */
export type BLoad = 'both' | 'storm' | 'heavy' | 'reads' | 'deep';

const IDLE: Side = { rps: 0, p50: 0, p99: 0, errors: 0, non2xx: 0 };

export async function noisyNeighbour(
  api: string,
  a: SeededTenant,
  b: NoisyTenant,
  token: (t: SeededTenant) => string,
  duration: number,
  load: BLoad = 'both',
): Promise<NoisyNeighbour> {
  const aList: Options = {
    url: `${api}/v1/workflows`,
    headers: { authorization: token(a) },
    connections: A_CONNECTIONS,
    overallRate: A_RATE,
    duration,
  };
  await autocannon({ ...aList, duration: 3 }); // warm-up
  const proxy = { authorization: `Bearer ${b.proxyKey}`, 'content-type': 'application/json' };
  const storm = (round: number): Options => ({
    url:
      load === 'reads'
        ? `${api}/internal/v1/instances/${b.instanceId}/workflows/${b.quietWorkflowId}`
        : `${api}/internal/v1/instances/${b.instanceId}/workflows/${b.stormWorkflowIds[round]}`,
    method: load === 'reads' ? 'GET' : 'PATCH',
    headers: proxy,
    body:
      load === 'reads' ? undefined : JSON.stringify({ action: 'noted', workflow_state: { n: 1 } }),
    connections: STORM_CONNECTIONS,
    duration,
  });
  const deep = load === 'deep';
  const heavy: Options = {
    url: deep
      ? `${api}/v1/workflows?page=100000&per_page=100`
      : `${api}/v1/workflows?status=paused&per_page=${HEAVY_WORKFLOWS}`,
    headers: { authorization: token(b) },
    connections: deep ? DEEP_CONNECTIONS : HEAVY_CONNECTIONS,
    duration,
  };
  const run = (options: Options, on: boolean) => (on ? autocannon(options) : null);
  const pooled = { alone: new Latencies(), beside: new Latencies() };
  const results = { alone: [] as Result[], beside: [] as Result[], storm: [] as Result[] };
  const heavies: Result[] = [];
  const rounds: NoisyRound[] = [];
  for (let round = 0; round < NOISY_ROUNDS; round++) {
    const alone = new Latencies();
    results.alone.push(await measured(aList, alone));
    const beside = new Latencies();
    const [besideResult, stormed, heavied] = await Promise.all([
      measured(aList, beside),
      run(storm(round), load !== 'heavy' && !deep),
      run(heavy, load !== 'storm' && load !== 'reads'),
    ]);
    results.beside.push(besideResult);
    if (stormed) results.storm.push(stormed);
    if (heavied) heavies.push(heavied);
    pooled.alone.samples.push(...alone.samples);
    pooled.beside.samples.push(...beside.samples);
    rounds.push({ alone: p99Of(alone), beside: p99Of(beside) });
    log(`  N. round ${round + 1}: A's p99 ${rounds[round].alone} → ${rounds[round].beside} ms`);
  }
  const result: NoisyNeighbour = {
    alone: side(results.alone, pooled.alone),
    beside: side(results.beside, pooled.beside),
    storm: results.storm.length > 0 ? sideOf(results.storm) : IDLE,
    heavy: heavies.length > 0 ? sideOf(heavies) : IDLE,
    rounds,
  };
  const line = (s: Side) =>
    `${s.rps} req/s, p50 ${s.p50} ms, p99 ${s.p99} ms, errors ${s.errors}, non-2xx ${s.non2xx}`;
  log(`  N. tenant A alone: ${line(result.alone)}`);
  log(`  N. tenant A beside B: ${line(result.beside)}`);
  const first = load === 'reads' ? "B's reads" : "B's row-lock storm";
  const pages = deep ? "B's pages past its last" : "B's heavy pages";
  log(`     ${first}: ${line(result.storm)}; ${pages}: ${line(result.heavy)}`);
  return result;
}
