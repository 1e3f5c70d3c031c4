import { randomBytes } from 'node:crypto';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Pool, PoolClient } from 'pg';
import request from 'supertest';
import { createApp } from '../../src/app.factory';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { adminQuery, testServer, withDatabase } from '../setup/test-server';

export const TEST_JWT_SECRET = 'test-jwt-secret-that-is-long-enough-0123456789';
export const TEST_PLATFORM_KEY = 'test-platform-key-0123456789abcdef';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  databaseUrl: string;
  http: () => ReturnType<typeof request>;
  /** Superuser pool on this file's database: sees every row, for asserting what was stored. */
  raw: Pool;
  /** Owner-role pool (neither superuser nor BYPASSRLS), for RLS assertions. */
  owner: Pool;
  close(): Promise<void>;
}

/** A fresh database cloned from the migrated template, and an app on it. One per test file. */
export async function startTestApp(env: Record<string, string | undefined> = {}): Promise<TestApp> {
  const server = testServer();
  const name = `hydracore_test_${process.env.JEST_WORKER_ID ?? 0}_${randomBytes(4).toString('hex')}`;
  const ownerRole = new URL(server.ownerUrl).username;
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${server.template} OWNER "${ownerRole}"`);
  const databaseUrl = withDatabase(server.ownerUrl, name);
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    JWT_SECRET: TEST_JWT_SECRET,
    ENCRYPTION_KEY: '11'.repeat(32),
    PLATFORM_API_KEY: TEST_PLATFORM_KEY,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', // TEST_LOG_LEVEL=error shows what a 500 hid
    SWEEP_INTERVAL_MS: '0', // tests run background jobs themselves
    COUNTS_COMPACT_INTERVAL_MS: '0',
    OUTBOX_POLL_INTERVAL_MS: '0',
    WEBHOOK_POLL_INTERVAL_MS: '0',
    RATE_LIMIT_PER_MINUTE: '0', // suites fire bursts with one credential; abuse.spec sets a limit
    AUTH_FAILURES_PER_MINUTE: '0', // suites send many refused credentials from one address
    ...env,
  });
  const app = await createApp(config);
  const raw = new Pool({ connectionString: withDatabase(server.adminUrl, name), max: 2 });
  const owner = new Pool({ connectionString: databaseUrl, max: 2 });
  // An idle client whose server goes away must not crash the worker; queries still fail loudly.
  for (const pool of [raw, owner]) pool.on('error', () => undefined);
  return {
    app,
    config,
    databaseUrl,
    http: () => request(app.getHttpServer()),
    raw,
    owner,
    async close() {
      await app.close();
      await raw.end();
      await owner.end();
      // The database is dropped by the global teardown, once every worker has exited:
      // Pool.end() resolves before its backends are gone, and dropping under them races.
    },
  };
}

/** Runs `work` on one owner connection inside a transaction as the runtime role, then rolls back. */
export async function asRuntimeRole<T>(
  t: TestApp,
  tenantId: string | null,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await t.owner.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `SELECT set_config('app.tenant_id', $1, true), set_config('role', 'hydracore_app', true)`,
      [tenantId ?? ''],
    );
    return await work(client);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

/** A second replica of the app on the same database (its own pool, its own caches). */
export async function startReplica(
  t: TestApp,
): Promise<{ http: () => ReturnType<typeof request>; close(): Promise<void> }> {
  const app = await createApp(t.config);
  return { http: () => request(app.getHttpServer()), close: () => app.close() };
}
