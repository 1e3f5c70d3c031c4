/** The throwaway database and the API settings both benchmark scripts run with. */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions, migrate } from '../src/database/data-source';
import { ensureDatabase, ownerUrl, startEmbeddedPostgres } from '../src/database/embedded';

export const JWT_SECRET = 'bench-jwt-secret-0123456789abcdef0123456789';

export interface BenchDatabase {
  /** The owner's URL of the migrated database, as the API gets it. */
  url: string;
  /** The superuser's URL of the same database (VACUUM, SHOW). */
  adminUrl: string;
  /** The cluster's data directory (its postmaster.pid, for `databaseCpuMs`). */
  pgDir: string;
}

/**
 * An embedded PostgreSQL in a temporary directory with one migrated database, for `work`;
 * stopped and deleted when `work` ends, however it ends.
 */
export async function withBenchDatabase<T>(
  prefix: string,
  work: (db: BenchDatabase) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  chmodSync(dir, 0o755);
  const pgDir = join(dir, 'pg');
  const pg = await startEmbeddedPostgres(
    pgDir,
    { postgresPassword: 'bench', ownerPassword: 'bench-owner' },
    false,
  );
  try {
    await ensureDatabase(pg.adminUrl, 'hydracore_bench');
    const url = ownerUrl(pg, 'hydracore_bench');
    const ds = await new DataSource(dataSourceOptions(url, 2)).initialize();
    await migrate(ds);
    await ds.destroy();
    return await work({
      url,
      adminUrl: pg.adminUrl.replace(/\/postgres$/, '/hydracore_bench'),
      pgDir,
    });
  } finally {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
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
