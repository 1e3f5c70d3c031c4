/**
 * npm run bench:side-by-side -- <build> <build> [list|get|event]
 *
 * Two or more builds of the API (directories holding a `nest build` output: `dist`, or an older
 * commit's build copied inside the repository so that node_modules resolve) under the same load
 * at the same time, 16 connections each, over several rounds. This machine's speed drifts by
 * ±20% within minutes, more than most single optimisations are worth; run side by side, both
 * builds meet the same drift, and the CPU each spends per request can be compared round by round.
 */
import { ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import autocannon, { Options } from 'autocannon';
import { Client } from 'pg';
import { signDevToken } from '../src/auth/tokens';
import { freePort } from '../src/database/embedded';
import { JWT_SECRET, apiEnv, withBenchDatabase } from './bench-database';
import { cpuMs, log, productionFlags, startProcess, stopProcess } from './processes';
import { BENCH_EVENT_PAYLOAD, SeededTenant, seedRules, seedTenant } from './seed';

const ROUNDS = Number(process.env.SIDE_ROUNDS ?? 5);
const SECONDS = Number(process.env.SIDE_SECONDS ?? 6);

const REQUESTS = {
  list: (t: SeededTenant, admin: string) => ({
    path: '/v1/workflows',
    headers: { authorization: admin },
  }),
  get: (t: SeededTenant, admin: string) => ({
    path: `/v1/workflows/${t.workflowId}`,
    headers: { authorization: admin },
  }),
  event: (t: SeededTenant) => ({
    path: `/internal/v1/instances/${t.instanceId}/events`,
    method: 'POST' as const,
    headers: { authorization: `Bearer ${t.proxyKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      event: 'skill.invoked',
      customer_id: t.customerIds[0],
      payload: BENCH_EVENT_PAYLOAD,
    }),
  }),
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const kind = (
    args.length > 2 && args[args.length - 1] in REQUESTS ? args.pop() : 'list'
  ) as keyof typeof REQUESTS;
  const builds = args.map((dir) => resolve(dir));
  if (builds.length < 2) throw new Error('usage: side-by-side <build> <build> [list|get|event]');

  await withBenchDatabase('hydracore-side', async ({ url }) => {
    const servers: ChildProcess[] = [];
    try {
      const db = new Client({ connectionString: url });
      await db.connect();
      const tenant = await seedTenant(db, 'Side by side', 2000);
      await seedRules(db, tenant.tenantId);
      await db.end();

      const env = apiEnv(url);
      const admin = `Bearer ${signDevToken(JWT_SECRET, { sub: 'bench', tenantId: tenant.tenantId, role: 'admin' })}`;
      const { path, ...request } = REQUESTS[kind](tenant, admin);
      const targets: { build: string; pid: number; options: Options }[] = [];
      for (const build of builds) {
        const port = await freePort();
        const server = await startProcess(
          [...productionFlags(), join(build, 'src/main.js')],
          { ...env, PORT: String(port) },
          'listening',
        );
        servers.push(server);
        targets.push({
          build,
          pid: server.pid!,
          options: { url: `http://127.0.0.1:${port}${path}`, ...request, connections: 16 },
        });
      }
      log(
        `${kind}: ${targets.length} builds, ${ROUNDS} rounds of ${SECONDS} s, 16 connections each`,
      );
      await Promise.all(targets.map((t) => autocannon({ ...t.options, duration: 5 })));

      const cpu = targets.map(() => [] as number[]);
      const rps = targets.map(() => [] as number[]);
      for (let round = 1; round <= ROUNDS; round++) {
        const before = targets.map((t) => cpuMs(t.pid));
        const results = await Promise.all(
          targets.map((t) => autocannon({ ...t.options, duration: SECONDS })),
        );
        const line = targets.map((t, i) => {
          const r = results[i];
          if (r.non2xx + r.errors > 0) throw new Error(`${t.build}: ${r.non2xx} non-2xx answers`);
          cpu[i].push((cpuMs(t.pid) - before[i]) / r.requests.total);
          rps[i].push(Math.round(r.requests.average));
          return `${cpu[i][round - 1].toFixed(2)} ms, ${rps[i][round - 1]} req/s`;
        });
        log(`  round ${round}: ${line.join('  |  ')}`);
      }
      targets.forEach((t, i) =>
        log(
          `${t.build}: median ${median(cpu[i]).toFixed(2)} ms of CPU a request, ${median(rps[i])} req/s`,
        ),
      );
    } finally {
      for (const server of servers) await stopProcess(server);
    }
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`side-by-side: ${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
