import fc from 'fast-check';
import { loadConfig } from '../../src/config/app-config';
import { loadConfig as legacyLoadConfig } from './legacy-app-config';

/** Values each variable may take, good and bad alike, in the spellings operators write. */
const VALUES: Record<string, string[]> = {
  DATABASE_URL: ['postgres://u:p@db:5432/x', ' postgresql://h/x ', 'mysql://h/x', 'nope', ''],
  MIGRATION_DATABASE_URL: ['postgres://u:p@direct:5432/x', 'http://x', ''],
  JWT_JWKS_URL: ['https://id.example/jwks.json', 'http://id/jwks', 'ftp://x', 'not a url', ''],
  JWT_SECRET: ['x'.repeat(32), ` ${'y'.repeat(40)} `, 'short', ''],
  JWT_ISSUER: ['https://id.example/', ''],
  JWT_AUDIENCE: ['hydracore-api', '  '],
  PLATFORM_API_KEY: ['k'.repeat(24), 'short', ''],
  ENCRYPTION_KEY: ['ab'.repeat(32), Buffer.alloc(32, 7).toString('base64'), 'abc', ''],
  REPLAY_WEBHOOK_URL: ['https://hooks.example/replay', 'ws://x', ''],
  REPLAY_WEBHOOK_SECRET: ['s3cret', ''],
  LOG_LEVEL: ['debug', 'silent', 'loud', 'INFO', ''],
  PORT: ['0', '8000', '65535', '65536', 'eighty', '-1', ' 81 ', ''],
  DB_POOL_SIZE: ['1', '3', '200', '201', '0', ''],
  DB_TENANT_MAX_CONNECTIONS: ['1', '2', '5', '150', '0', 'x', ''],
  DB_PREPARED_STATEMENTS: ['true', 'false', '0', '1', 'yes', ''],
  DB_STATEMENT_TIMEOUT_MS: ['100', '99', '600000', '600001', ''],
  DB_LOCK_TIMEOUT_MS: ['10', '9', '2500', ''],
  TENANT_DOCUMENT_BYTES_PER_SECOND: ['1048576', '1048575', '1073741824', '1073741825', ''],
  REQUEST_TIMEOUT_MS: ['100', '99', '600000', ''],
  SWEEP_INTERVAL_MS: ['0', '86400000', '86400001', ''],
  EVENT_RETENTION_DAYS: ['1', '3650', '3651', '0', '7d', ''],
  COUNTS_COMPACT_INTERVAL_MS: ['0', '3600000', '3600001', ''],
  RATE_LIMIT_PER_MINUTE: ['0', '100000', '100001', 'lots', ''],
  AUTH_FAILURES_PER_MINUTE: ['0', '100000', '-1', ''],
  CORS_ORIGINS: [
    'https://a.example',
    ' https://a.example , http://localhost:3000,',
    '*',
    'https://a.example/',
    'ftp://x',
    '',
  ],
  TRUST_PROXY: ['1', '10', '11', '0', 'true', '10.0.0.0/8, ::1', '10.0.0.1,proxy', ''],
  OUTBOX_POLL_INTERVAL_MS: ['0', '3600000', '3600001', ''],
  OUTBOX_MAX_ATTEMPTS: ['1', '100', '101', ''],
  OUTBOX_BACKOFF_MS: ['1', '0', ''],
  OUTBOX_TIMEOUT_MS: ['100', '3000', '60000', '600000', '50', ''],
  OUTBOX_CONCURRENCY: ['1', '100', '101', '0', ''],
  OUTBOX_LEASE_MS: ['10', '50', '3500', '5000', '3600000', '9', ''],
  WEBHOOK_ALLOW_HTTP: ['true', 'false', '1', '0', 'yes', ''],
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: ['true', '0', 'TRUE', ''],
  WEBHOOK_TIMEOUT_MS: ['100', '120000', '120001', ''],
  WEBHOOK_RETRY_SCHEDULE: ['5s', '200ms, 1s,2m,1h,1d', '30d', '31d', '5s,soon', ''],
  WEBHOOK_POLL_INTERVAL_MS: ['0', '1000', ''],
};

const valid = {
  DATABASE_URL: 'postgres://u:p@localhost:5432/db',
  JWT_SECRET: 'x'.repeat(32),
  ENCRYPTION_KEY: 'ab'.repeat(32),
};

function outcome(
  load: (env: Record<string, string | undefined>) => unknown,
  env: Record<string, string | undefined>,
) {
  try {
    return { ok: true, config: load(env) as object };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

describe('the zod schema against the loader it replaced', () => {
  const names = Object.keys(VALUES);
  const envs = fc.record(
    Object.fromEntries(
      names.map((name) => [name, fc.option(fc.constantFrom(...VALUES[name]), { nil: undefined })]),
    ),
    { requiredKeys: [] },
  );

  it('gives the same AppConfig for every environment the old loader accepted, and refuses the rest', () => {
    fc.assert(
      fc.property(envs, fc.boolean(), (overrides, withBase) => {
        const env = withBase ? { ...valid, ...overrides } : overrides;
        const before = outcome(legacyLoadConfig, env);
        const after = outcome(loadConfig, env);
        expect(after.ok).toBe(before.ok);
        // Variables added since (JWKS timings, metrics, log format) have no counterpart there.
        if (before.ok) expect(after.config).toMatchObject(before.config!);
      }),
      { numRuns: 2_000 },
    );
  });

  it.each(names.flatMap((name) => VALUES[name].map((value) => [name, value])))(
    '%s=%j alone: same AppConfig, or refused by a line starting with the same variable',
    (name, value) => {
      const env = { ...valid, [name]: value };
      const before = outcome(legacyLoadConfig, env);
      const after = outcome(loadConfig, env);
      expect(after.ok).toBe(before.ok);
      if (before.ok)
        expect(after.config).toMatchObject(before.config!); // variables added since aside
      else {
        expect(after.message!.split(' ')[0]).toBe(before.message!.split(' ')[0]);
        expect(after.message).not.toContain('\n');
      }
    },
  );
});
