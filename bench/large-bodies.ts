/**
 * `npm run bench:bodies`: tenant A sends large JSON bodies flat out from six connections while
 * tenant B reads its customers every 50 ms; prints B's latency beside its latency alone. Five
 * attacks, each on an API just started (the per-credential rate limit, on as in production,
 * starts afresh): a MiB of zeros and a MiB of empty objects (both past the 150,000-value cap),
 * 149,000 zeros and 74,000 empty objects (within it: created), and oversized event payloads
 * from the runtime's key. Prints the figures; writes nothing.
 */
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../src/database/embedded';
import { adminToken, apiEnv, withBenchDatabase } from './bench-database';
import { log, productionFlags, startProcess, stopProcess, ROOT } from './processes';
import { SeededTenant, seedTenant } from './seed';

const ATTACK_MS = 10_000;
const B_EVERY_MS = 50;

const array = (item: string, n: number) => `[${Array(n).fill(item).join(',')}]`;

interface Attack {
  name: string;
  connections: number;
  request(api: string, a: SeededTenant): { url: string; headers: Record<string, string> };
  body(a: SeededTenant): string;
}

/** A customer created from the dashboard, its body carrying `n` copies of `item` it ignores. */
const customerAttack = (name: string, item: string, n: number): Attack => ({
  name,
  connections: 6,
  request: (api, a) => ({
    url: `${api}/v1/customers`,
    headers: { authorization: adminToken(a), 'content-type': 'application/json' },
  }),
  body: () => `{"name":"x","ignored":${array(item, n)}}`,
});

const ATTACKS: Attack[] = [
  customerAttack('a MiB of zeros', '0', 500_000),
  customerAttack('a MiB of empty objects', '{}', 250_000),
  customerAttack('149,000 zeros', '0', 149_000),
  customerAttack('74,000 empty objects', '{}', 74_000),
  {
    name: 'event payloads of a MiB (422)',
    connections: 4,
    request: (api, a) => ({
      url: `${api}/internal/v1/instances/${a.instanceId}/events`,
      headers: { authorization: `Bearer ${a.proxyKey}`, 'content-type': 'application/json' },
    }),
    body: (a) =>
      `{"event":"message.received","customer_id":"${a.customerIds[0]}","payload":{"x":${array('0', 500_000)}}}`,
  },
];

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function timedRead(api: string, b: SeededTenant): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${api}/v1/customers`, { headers: { authorization: adminToken(b) } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`B's read answered ${res.status}`);
  return performance.now() - started;
}

async function run(api: string, a: SeededTenant, b: SeededTenant, attack: Attack) {
  const alone: number[] = [];
  for (let i = 0; i < 20; i++) alone.push(await timedRead(api, b));
  const { url, headers } = attack.request(api, a);
  const body = attack.body(a);
  const codes: Record<number, number> = {};
  let stop = false;
  const loop = async () => {
    while (!stop) {
      const res = await fetch(url, { method: 'POST', headers, body });
      await res.arrayBuffer();
      codes[res.status] = (codes[res.status] ?? 0) + 1;
    }
  };
  const loops = Array.from({ length: attack.connections }, loop);
  const beside: number[] = [];
  for (const end = Date.now() + ATTACK_MS; Date.now() < end;) {
    beside.push(await timedRead(api, b));
    await new Promise((resolve) => setTimeout(resolve, B_EVERY_MS));
  }
  stop = true;
  await Promise.all(loops);
  const ms = (sorted: number[], p: number) => percentile(sorted, p).toFixed(0);
  alone.sort((x, y) => x - y);
  beside.sort((x, y) => x - y);
  log(
    `  ${attack.name}: B's read p50 ${ms(alone, 0.5)} ms alone, ${ms(beside, 0.5)} ms beside A ` +
      `(p90 ${ms(beside, 0.9)}, max ${ms(beside, 1)}, ${beside.length} reads); ` +
      `A's answers ${JSON.stringify(codes)}`,
  );
}

async function main(): Promise<void> {
  await withBenchDatabase('hydracore-bodies', async ({ url }) => {
    const db = new Client({ connectionString: url });
    await db.connect();
    const a = await seedTenant(db, 'Tenant A', 10);
    const b = await seedTenant(db, 'Tenant B', 10);
    await db.end();
    for (const attack of ATTACKS) {
      const port = await freePort();
      const env = { ...apiEnv(url), PORT: String(port), RATE_LIMIT_PER_MINUTE: '1200' };
      const api = await startProcess(
        [...productionFlags(), join(ROOT, 'dist/src/main.js')],
        env,
        'listening',
      );
      try {
        await run(`http://127.0.0.1:${port}`, a, b, attack);
      } finally {
        await stopProcess(api);
      }
    }
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`bodies: ${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
