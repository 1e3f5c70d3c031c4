/**
 * `npm run bench:noisy`: the noisy-neighbour scenario of `npm run bench` on its own, seeded with
 * only the two tenants it needs, so a fairness change can be measured in a minute rather than
 * in the whole run. `npm run bench:noisy -- storm` or `-- heavy` runs one half of B's load
 * beside A, to tell which of them costs A its latency; `-- reads` runs the control, B busy but
 * not hostile (see BLoad); `-- deep`, B's pages past the last of 133,000 workflows. Prints the figures; writes nothing.
 */
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../src/database/embedded';
import { adminToken, apiEnv, withBenchDatabase } from './bench-database';
import { BLoad, noisyNeighbour, seedDeepPages, seedNoisyTenant } from './noisy-neighbour';
import {
  cpuMs,
  log,
  peakRssMb,
  productionFlags,
  profileFlags,
  startProcess,
  stopProcess,
  ROOT,
} from './processes';
import { seedTenant } from './seed';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);

async function main(part: string | undefined): Promise<void> {
  const parts = ['storm', 'heavy', 'reads', 'deep'] as const;
  const load: BLoad = parts.find((p) => p === part) ?? 'both';
  await withBenchDatabase('hydracore-noisy', async ({ url }) => {
    const db = new Client({ connectionString: url });
    await db.connect();
    const a = await seedTenant(db, 'Tenant A', 2000);
    const b = await seedNoisyTenant(db);
    if (load === 'deep') await seedDeepPages(db, b);
    await db.query('ANALYZE');
    await db.end();
    const port = await freePort();
    const api = await startProcess(
      [...productionFlags(), ...profileFlags(), join(ROOT, 'dist/src/main.js')],
      { ...apiEnv(url), PORT: String(port) },
      'listening',
    );
    try {
      const before = cpuMs(api.pid!);
      await noisyNeighbour(`http://127.0.0.1:${port}`, a, b, adminToken, DURATION_S, load);
      log(`API CPU ${Math.round(cpuMs(api.pid!) - before)} ms; peak RSS ${peakRssMb(api.pid!)} MB`);
    } finally {
      await stopProcess(api);
    }
  });
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`noisy: ${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
