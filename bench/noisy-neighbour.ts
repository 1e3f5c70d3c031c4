/**
 * The noisy-neighbour scenario of `npm run bench`: tenant A reads its workflow list alone, then
 * again while tenant B storms one row with concurrent changes and reads pages of its heaviest
 * workflows. A's p99 and errors side by side are what fairness means in numbers.
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
}

interface Side {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** Tenant B: `workflowId` is the storm's target; `quietWorkflowId` one the storm leaves alone. */
export interface NoisyTenant extends SeededTenant {
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
     VALUES ($1, $2, $3, 'lead', 'active', '[]') RETURNING id`,
    [b.tenantId, b.instanceId, b.customerIds[0]],
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
  return { ...b, workflowId: rows[0].id, quietWorkflowId: b.workflowId };
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

const side = (r: Result): Side => ({
  rps: Math.round(r.requests.average),
  p50: r.latency.p50,
  p99: r.latency.p99,
  errors: r.errors + r.timeouts,
  non2xx: r.non2xx,
});

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
  const alone = side(await autocannon(aList));
  const workflows = `${api}/internal/v1/instances/${b.instanceId}/workflows`;
  const proxy = { authorization: `Bearer ${b.proxyKey}`, 'content-type': 'application/json' };
  const storm: Options = {
    url: `${workflows}/${load === 'reads' ? b.quietWorkflowId : b.workflowId}`,
    method: load === 'reads' ? 'GET' : 'PATCH',
    headers: proxy,
    body:
      load === 'reads' ? undefined : JSON.stringify({ action: 'noted', workflow_state: { n: 1 } }),
    connections: STORM_CONNECTIONS,
    duration,
  };
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
  const [beside, stormed, heavied] = await Promise.all([
    autocannon(aList),
    run(storm, load !== 'heavy' && !deep),
    run(heavy, load !== 'storm' && load !== 'reads'),
  ]);
  const result = {
    alone,
    beside: side(beside),
    storm: stormed ? side(stormed) : IDLE,
    heavy: heavied ? side(heavied) : IDLE,
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
