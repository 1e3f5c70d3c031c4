import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Fastify from 'fastify';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../../src/config/app-config';
import { readEnvironment } from '../../src/config/environment';
import { integer, required } from '../../src/config/fields';
import { migrationSchema, startupSchema, tokenSchema } from '../../src/config/schema';

const valid = {
  DATABASE_URL: 'postgres://u:p@localhost:5432/db',
  JWT_SECRET: 'x'.repeat(32),
  ENCRYPTION_KEY: 'ab'.repeat(32),
};

function refusal(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('the configuration schema', () => {
  // Every variable set, away from its default: what the hand-written loader this schema
  // replaced produced for the same environment (compared on thousands of environments then).
  it('reads every variable as the loader before it did', () => {
    const env = {
      DATABASE_URL: ' postgresql://hc:pw@db.internal:6432/hydracore ',
      MIGRATION_DATABASE_URL: 'postgres://hc:pw@db.internal:5432/hydracore',
      JWT_JWKS_URL: 'https://id.example/.well-known/jwks.json',
      JWT_ISSUER: 'https://id.example/',
      JWT_AUDIENCE: 'hydracore-api',
      PLATFORM_API_KEY: 'p'.repeat(24),
      ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      REPLAY_WEBHOOK_URL: 'https://runtime.example/replay',
      REPLAY_WEBHOOK_SECRET: 'replay-secret',
      LOG_LEVEL: 'warn',
      PORT: '0',
      DB_POOL_SIZE: '7',
      DB_PREPARED_STATEMENTS: '0',
      DB_STATEMENT_TIMEOUT_MS: '600000',
      DB_LOCK_TIMEOUT_MS: '10',
      TENANT_DOCUMENT_BYTES_PER_SECOND: '1048576',
      REQUEST_TIMEOUT_MS: '100',
      SWEEP_INTERVAL_MS: '0',
      EVENT_RETENTION_DAYS: '3650',
      COUNTS_COMPACT_INTERVAL_MS: '3600000',
      RATE_LIMIT_PER_MINUTE: '100000',
      AUTH_FAILURES_PER_MINUTE: '0',
      CORS_ORIGINS: ' https://dash.example.com , http://localhost:3000,',
      TRUST_PROXY: '10.0.0.0/8, ::1',
      OUTBOX_POLL_INTERVAL_MS: '0',
      OUTBOX_MAX_ATTEMPTS: '100',
      OUTBOX_BACKOFF_MS: '1',
      OUTBOX_TIMEOUT_MS: '3000',
      OUTBOX_CONCURRENCY: '1',
      OUTBOX_LEASE_MS: '3500',
      WEBHOOK_ALLOW_HTTP: '1',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_TIMEOUT_MS: '120000',
      WEBHOOK_RETRY_SCHEDULE: '200ms, 1s,2m,1h,1d,30d',
      WEBHOOK_POLL_INTERVAL_MS: '3600000',
    };
    expect(loadConfig(env)).toEqual({
      port: 0,
      databaseUrl: 'postgresql://hc:pw@db.internal:6432/hydracore',
      migrationDatabaseUrl: 'postgres://hc:pw@db.internal:5432/hydracore',
      dbPoolSize: 7,
      dbPreparedStatements: false,
      dbTenantMaxConnections: 3,
      dbStatementTimeoutMs: 600_000,
      dbLockTimeoutMs: 10,
      tenantDocumentBytesPerSecond: 1_048_576,
      requestTimeoutMs: 100,
      jwt: {
        secret: null,
        jwksUrl: 'https://id.example/.well-known/jwks.json',
        issuer: 'https://id.example/',
        audience: 'hydracore-api',
        jwksRefreshMs: 300_000,
        jwksCooldownMs: 5_000,
      },
      platformApiKey: 'p'.repeat(24),
      encryptionKey: Buffer.alloc(32, 7),
      replayWebhookUrl: 'https://runtime.example/replay',
      replayWebhookSecret: 'replay-secret',
      logLevel: 'warn',
      logFormat: null,
      metricsToken: null,
      sweepIntervalMs: 0,
      eventRetentionDays: 3650,
      countsCompactIntervalMs: 3_600_000,
      rateLimitPerMinute: 100_000,
      authFailuresPerMinute: 0,
      corsOrigins: ['https://dash.example.com', 'http://localhost:3000'],
      trustProxy: ['10.0.0.0/8', '::1'],
      outbox: {
        pollMs: 0,
        maxAttempts: 100,
        backoffMs: 1,
        timeoutMs: 3_000,
        concurrency: 1,
        leaseMs: 4_000,
      },
      webhooks: {
        allowHttp: true,
        allowPrivateNetworks: true,
        timeoutMs: 120_000,
        retryScheduleMs: [200, 1_000, 120_000, 3_600_000, 86_400_000, 2_592_000_000],
        pollMs: 3_600_000,
      },
    });
  });

  // One bad value of every variable the server reads; the line names it first.
  it.each([
    ['DATABASE_URL', 'not a url', 'DATABASE_URL must be a URL'],
    [
      'MIGRATION_DATABASE_URL',
      'http://db/x',
      'MIGRATION_DATABASE_URL must use one of postgres:, postgresql:',
    ],
    ['JWT_JWKS_URL', 'ftp://id/jwks', 'JWT_JWKS_URL must use one of https:, http:'],
    [
      'JWT_JWKS_REFRESH_MS',
      '99',
      'JWT_JWKS_REFRESH_MS must be an integer between 100 and 86400000, got "99"',
    ],
    [
      'JWT_JWKS_COOLDOWN_MS',
      'soon',
      'JWT_JWKS_COOLDOWN_MS must be an integer between 100 and 3600000, got "soon"',
    ],
    ['JWT_SECRET', 'short', 'JWT_SECRET must be at least 32 characters'],
    ['PLATFORM_API_KEY', 'short', 'PLATFORM_API_KEY must be at least 24 characters'],
    [
      'ENCRYPTION_KEY',
      'ab'.repeat(31),
      'ENCRYPTION_KEY must be 32 bytes, as 64 hex characters or base64',
    ],
    ['REPLAY_WEBHOOK_URL', 'replay', 'REPLAY_WEBHOOK_URL must be a URL'],
    [
      'LOG_LEVEL',
      'loud',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ],
    ['LOG_FORMAT', 'xml', 'LOG_FORMAT must be one of json, pretty, got "xml"'],
    ['METRICS_TOKEN', 'short', 'METRICS_TOKEN must be at least 16 characters'],
    ['PORT', '65536', 'PORT must be an integer between 0 and 65535, got "65536"'],
    ['DB_POOL_SIZE', '201', 'DB_POOL_SIZE must be an integer between 1 and 200, got "201"'],
    [
      'DB_TENANT_MAX_CONNECTIONS',
      '11',
      'DB_TENANT_MAX_CONNECTIONS must be an integer between 1 and 10, got "11"',
    ],
    ['DB_PREPARED_STATEMENTS', 'off', 'DB_PREPARED_STATEMENTS must be true or false, got "off"'],
    [
      'DB_STATEMENT_TIMEOUT_MS',
      '99',
      'DB_STATEMENT_TIMEOUT_MS must be an integer between 100 and 600000, got "99"',
    ],
    [
      'DB_LOCK_TIMEOUT_MS',
      '9',
      'DB_LOCK_TIMEOUT_MS must be an integer between 10 and 600000, got "9"',
    ],
    [
      'TENANT_DOCUMENT_BYTES_PER_SECOND',
      '16MiB',
      'TENANT_DOCUMENT_BYTES_PER_SECOND must be an integer between 1048576 and 1073741824, got "16MiB"',
    ],
    [
      'REQUEST_TIMEOUT_MS',
      '0',
      'REQUEST_TIMEOUT_MS must be an integer between 100 and 600000, got "0"',
    ],
    [
      'SWEEP_INTERVAL_MS',
      '1.5',
      'SWEEP_INTERVAL_MS must be an integer between 0 and 86400000, got "1.5"',
    ],
    [
      'EVENT_RETENTION_DAYS',
      '7d',
      'EVENT_RETENTION_DAYS must be an integer between 1 and 3650, got "7d"',
    ],
    [
      'COUNTS_COMPACT_INTERVAL_MS',
      '-1',
      'COUNTS_COMPACT_INTERVAL_MS must be an integer between 0 and 3600000, got "-1"',
    ],
    [
      'RATE_LIMIT_PER_MINUTE',
      'lots',
      'RATE_LIMIT_PER_MINUTE must be an integer between 0 and 100000, got "lots"',
    ],
    [
      'AUTH_FAILURES_PER_MINUTE',
      '100001',
      'AUTH_FAILURES_PER_MINUTE must be an integer between 0 and 100000, got "100001"',
    ],
    [
      'CORS_ORIGINS',
      '*',
      'CORS_ORIGINS must list origins like https://app.example.com, comma-separated; got "*"',
    ],
    [
      'TRUST_PROXY',
      'banana',
      'TRUST_PROXY must be a hop count (1-10), false, or proxy addresses/CIDRs (or loopback, linklocal, uniquelocal), comma-separated; got "banana"',
    ],
    [
      'OUTBOX_POLL_INTERVAL_MS',
      'x',
      'OUTBOX_POLL_INTERVAL_MS must be an integer between 0 and 3600000, got "x"',
    ],
    [
      'OUTBOX_MAX_ATTEMPTS',
      '0',
      'OUTBOX_MAX_ATTEMPTS must be an integer between 1 and 100, got "0"',
    ],
    [
      'OUTBOX_BACKOFF_MS',
      '0',
      'OUTBOX_BACKOFF_MS must be an integer between 1 and 3600000, got "0"',
    ],
    [
      'OUTBOX_TIMEOUT_MS',
      '50',
      'OUTBOX_TIMEOUT_MS must be an integer between 100 and 600000, got "50"',
    ],
    [
      'OUTBOX_CONCURRENCY',
      '101',
      'OUTBOX_CONCURRENCY must be an integer between 1 and 100, got "101"',
    ],
    ['OUTBOX_LEASE_MS', '9', 'OUTBOX_LEASE_MS must be an integer between 10 and 3600000, got "9"'],
    ['WEBHOOK_ALLOW_HTTP', 'yes', 'WEBHOOK_ALLOW_HTTP must be true or false, got "yes"'],
    [
      'WEBHOOK_ALLOW_PRIVATE_NETWORKS',
      'TRUE',
      'WEBHOOK_ALLOW_PRIVATE_NETWORKS must be true or false, got "TRUE"',
    ],
    [
      'WEBHOOK_TIMEOUT_MS',
      '120001',
      'WEBHOOK_TIMEOUT_MS must be an integer between 100 and 120000, got "120001"',
    ],
    [
      'WEBHOOK_RETRY_SCHEDULE',
      '5s,soon',
      'WEBHOOK_RETRY_SCHEDULE must be durations like 5s,5m,2h (ms, s, m, h or d), got "5s,soon"',
    ],
    [
      'WEBHOOK_POLL_INTERVAL_MS',
      'often',
      'WEBHOOK_POLL_INTERVAL_MS must be an integer between 0 and 3600000, got "often"',
    ],
  ])('%s=%j is refused with one line naming it', (name, value, line) => {
    expect(refusal({ ...valid, [name]: value })).toBe(line);
  });

  it('never echoes a secret or a database URL it refuses', () => {
    const secret = 'hunter2-but-too-short';
    expect(refusal({ ...valid, JWT_SECRET: secret })).not.toContain(secret);
    expect(refusal({ ...valid, DATABASE_URL: 'mysql://u:pa55word@db/x' })).not.toContain(
      'pa55word',
    );
  });

  it('names every bad variable, still on one line', () => {
    expect(refusal({ ...valid, PORT: 'eighty', TRUST_PROXY: 'true', LOG_LEVEL: 'loud' })).toBe(
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"; ' +
        'PORT must be an integer between 0 and 65535, got "eighty"; ' +
        'TRUST_PROXY must be a hop count (1-10), false, or proxy addresses/CIDRs (or loopback, ' +
        'linklocal, uniquelocal), comma-separated; got "true"',
    );
    expect(refusal({ PORT: 'x\ny' })).not.toContain('\n');
  });

  it('reads blank as unset and trims values', () => {
    const config = loadConfig({ ...valid, PORT: '  ', LOG_LEVEL: ' debug ', JWT_ISSUER: '' });
    expect(config).toMatchObject({ port: 8000, logLevel: 'debug', jwt: { issuer: null } });
  });

  // The schema admits what Fastify's trustProxy compiles, so nothing it accepts fails at start-up.
  it.each([
    ['false', false],
    ['1', 1],
    ['10', 10],
    ['10.0.0.0/8, ::1', ['10.0.0.0/8', '::1']],
    ['loopback,uniquelocal', ['loopback', 'uniquelocal']],
    ['192.168.0.0/255.255.0.0', ['192.168.0.0/255.255.0.0']],
    ['2001:db8::/32,fe80::1/128,10.1.2.3/32', ['2001:db8::/32', 'fe80::1/128', '10.1.2.3/32']],
  ])('TRUST_PROXY=%j is %j, which Fastify accepts', async (raw, expected) => {
    const { trustProxy } = loadConfig({ ...valid, TRUST_PROXY: raw });
    expect(trustProxy).toEqual(expected);
    await Fastify({ trustProxy }).close();
  });

  it.each([
    '0',
    '11',
    'true',
    '10.0.0.0/33',
    '10.0.0.0/0',
    '::1/129',
    '999.1.1.1',
    '10.0.0.1/255.0.255.0',
    '10.0.0.1/8x',
    '10.0.0.1,',
    'proxy.internal',
  ])('TRUST_PROXY=%j is refused', (raw) => {
    expect(refusal({ ...valid, TRUST_PROXY: raw })).toMatch(/^TRUST_PROXY must be a hop count/);
  });

  it.each(['10.0.0.0/33', '10.0.0.0/0', '::1/129', '999.1.1.1', '10.0.0.1/255.0.255.0'])(
    'TRUST_PROXY=%j is refused because Fastify would throw on it at start-up',
    (raw) => {
      expect(() => Fastify({ trustProxy: [raw] })).toThrow(/invalid/);
    },
  );
});

describe('the other entry points’ schemas', () => {
  it('startup: the data directory (default .data) and whether there is a database', () => {
    expect(startupSchema.parse({})).toEqual({ dataDir: resolve('.data'), databaseUrl: null });
    expect(
      startupSchema.parse({ HYDRACORE_DATA_DIR: '/srv/hc', DATABASE_URL: valid.DATABASE_URL }),
    ).toEqual({ dataDir: '/srv/hc', databaseUrl: valid.DATABASE_URL });
  });

  it('migrations: DATABASE_URL required, MIGRATION_DATABASE_URL preferred', () => {
    expect(migrationSchema.safeParse({}).error?.issues[0]).toMatchObject({
      path: ['DATABASE_URL'],
      message: expect.stringMatching(/^is required/),
    });
    expect(
      migrationSchema.parse({
        DATABASE_URL: valid.DATABASE_URL,
        MIGRATION_DATABASE_URL: 'postgres://direct/db',
      }),
    ).toEqual({ databaseUrl: valid.DATABASE_URL, migrationDatabaseUrl: 'postgres://direct/db' });
  });

  it('token: the secret if set, else the data directory to find one in', () => {
    expect(tokenSchema.parse({ HYDRACORE_DATA_DIR: 'd', JWT_AUDIENCE: 'api' })).toEqual({
      dataDir: resolve('d'),
      jwtSecret: null,
      issuer: null,
      audience: 'api',
    });
    expect(tokenSchema.safeParse({ JWT_SECRET: 'short' }).success).toBe(false);
  });
});

describe('readEnvironment', () => {
  const names = ['HC_TEST_FROM_FILE', 'HC_TEST_BOTH', 'HC_TEST_DEFAULTED', 'HC_TEST_UNSET'];
  const schema = z.object(Object.fromEntries(names.map((name) => [name, z.string().optional()])));
  const cwd = process.cwd();
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hydracore-env-'));
    process.chdir(dir);
  });
  afterEach(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
    for (const name of names) delete process.env[name];
  });

  it('reads .env in the working directory, the environment winning; defaults fill the blanks', () => {
    writeFileSync(join(dir, '.env'), 'HC_TEST_FROM_FILE=file\nHC_TEST_BOTH=file\n');
    process.env.HC_TEST_BOTH = 'environment';
    process.env.HC_TEST_DEFAULTED = ' ';
    expect(
      readEnvironment(schema, { HC_TEST_DEFAULTED: 'default', HC_TEST_BOTH: 'default' }),
    ).toEqual({
      HC_TEST_FROM_FILE: 'file',
      HC_TEST_BOTH: 'environment',
      HC_TEST_DEFAULTED: 'default',
    });
  });

  it('goes without a .env file', () => {
    expect(readEnvironment(schema)).toEqual({});
  });

  it('turns a schema failure into one ConfigError line', () => {
    writeFileSync(join(dir, '.env'), 'HC_TEST_FROM_FILE=ten\n');
    const tight = z.object({ HC_TEST_FROM_FILE: required(integer(1, 9)) });
    expect(() => readEnvironment(tight)).toThrow(
      new ConfigError('HC_TEST_FROM_FILE must be an integer between 1 and 9, got "ten"'),
    );
  });
});
