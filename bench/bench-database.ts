/** The throwaway database and the API settings both benchmark scripts run with. */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { signDevToken } from '../src/auth/tokens';
import { dataSourceOptions, migrate } from '../src/database/data-source';
import { ensureDatabase, ownerUrl, startEmbeddedPostgres } from '../src/database/embedded';

export const JWT_SECRET = 'bench-jwt-secret-0123456789abcdef0123456789';

/** A tenant admin's dashboard credential for a seeded tenant, as every benchmark script signs it. */
export function adminToken(t: { tenantId: string }): string {
  return `Bearer ${signDevToken(JWT_SECRET, { sub: 'bench', tenantId: t.tenantId, role: 'admin' })}`;
}

export interface BenchDatabase {
  /** The owner's URL of the migrated database, as the API gets it. */
  url: string;
  /** The superuser's URL of the same database (VACUUM, SHOW). */
  adminUrl: string;
  /** The cluster's data directory (its postmaster.pid, for `databaseCpuMs`). */
  pgDir: string;
}

/** A throwaway cluster, in which `database` creates and migrates databases. */
export interface BenchCluster {
  pgDir: string;
  /**
   * Creates `name` and migrates it with the migrations of `build` (a `nest build` output
   * directory; by default the build running this script): comparing two builds means each runs
   * on the schema its own migrations make, indexes and triggers included.
   */
  database(name: string, build?: string): Promise<Omit<BenchDatabase, 'pgDir'>>;
}

/**
 * An embedded PostgreSQL in a temporary directory, for `work`; stopped and deleted when `work`
 * ends, however it ends.
 */
export async function withBenchCluster<T>(
  prefix: string,
  work: (cluster: BenchCluster) => Promise<T>,
  settings: readonly string[] = [],
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  chmodSync(dir, 0o755);
  const pgDir = join(dir, 'pg');
  const pg = await startEmbeddedPostgres(
    pgDir,
    { postgresPassword: 'bench', ownerPassword: 'bench-owner' },
    false,
    settings,
  );
  const database = async (name: string, build?: string) => {
    await ensureDatabase(pg.adminUrl, name);
    const url = ownerUrl(pg, name);
    const own: { dataSourceOptions: typeof dataSourceOptions; migrate: typeof migrate } = build
      ? await import(resolve(build, 'src/database/data-source.js'))
      : { dataSourceOptions, migrate };
    const ds = await new DataSource(own.dataSourceOptions(url, 2)).initialize();
    await own.migrate(ds);
    await ds.destroy();
    return { url, adminUrl: pg.adminUrl.replace(/\/postgres$/, `/${name}`) };
  };
  try {
    return await work({ pgDir, database });
  } finally {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An embedded PostgreSQL with one migrated database, for `work` (see withBenchCluster). */
export function withBenchDatabase<T>(
  prefix: string,
  work: (db: BenchDatabase) => Promise<T>,
): Promise<T> {
  return withBenchCluster(prefix, async (cluster) =>
    work({ ...(await cluster.database('hydracore_bench')), pgDir: cluster.pgDir }),
  );
}

/** The API's environment (the baseline reads the same): production, no background jobs. */
export function apiEnv(url: string) {
  return {
    DATABASE_URL: url,
    JWT_SECRET,
    ENCRYPTION_KEY: 'ab'.repeat(32),
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    SWEEP_INTERVAL_MS: '0',
    OUTBOX_POLL_INTERVAL_MS: '0',
    RATE_LIMIT_PER_MINUTE: '0', // many connections on one credential measure throughput, not the limit
    DB_POOL_SIZE: process.env.BENCH_POOL_SIZE ?? '10',
  };
}
