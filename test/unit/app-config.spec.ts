import { ConfigError, loadConfig } from '../../src/config/app-config';

const valid = {
  DATABASE_URL: 'postgres://u:p@localhost:5432/db',
  JWT_SECRET: 'x'.repeat(32),
  ENCRYPTION_KEY: 'ab'.repeat(32),
};

describe('loadConfig', () => {
  it('applies defaults', () => {
    const config = loadConfig(valid);
    expect(config).toMatchObject({
      port: 8000,
      dbPoolSize: 10,
      logLevel: 'info',
      platformApiKey: null,
      rateLimitPerMinute: 1200,
      authFailuresPerMinute: 60,
      corsOrigins: [],
      trustProxy: false,
    });
    expect(config.encryptionKey).toHaveLength(32);
    expect(config.webhooks).toEqual({
      allowHttp: false,
      allowPrivateNetworks: false,
      timeoutMs: 10_000,
      retryScheduleMs: [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000].map((s) => s * 1_000),
      pollMs: 1_000,
    });
  });

  it('reads a retry schedule in any unit', () => {
    const config = loadConfig({ ...valid, WEBHOOK_RETRY_SCHEDULE: '200ms, 1s,2m,1h,1d' });
    expect(config.webhooks.retryScheduleMs).toEqual([200, 1_000, 120_000, 3_600_000, 86_400_000]);
  });

  it.each([
    [{ PORT: 'eighty' }, /^PORT must be an integer/],
    [{ PORT: '70000' }, /^PORT /],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL must use/],
    [{ DATABASE_URL: '' }, /^DATABASE_URL is required/],
    [{ JWT_SECRET: 'short' }, /^JWT_SECRET must be at least 32/],
    [{ JWT_SECRET: undefined }, /^JWT_SECRET is required unless JWT_JWKS_URL/],
    [{ JWT_JWKS_URL: 'not a url' }, /^JWT_JWKS_URL must be a URL/],
    [{ ENCRYPTION_KEY: 'abc' }, /^ENCRYPTION_KEY must be 32 bytes/],
    [{ ENCRYPTION_KEY: undefined }, /^ENCRYPTION_KEY is required$/],
    [{ PLATFORM_API_KEY: 'short' }, /^PLATFORM_API_KEY must be at least 24/],
    [{ REPLAY_WEBHOOK_URL: 'https://hooks.example/replay' }, /^REPLAY_WEBHOOK_SECRET is required/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of/],
    [{ DB_POOL_SIZE: '0' }, /^DB_POOL_SIZE must be an integer/],
    [{ RATE_LIMIT_PER_MINUTE: '-1' }, /^RATE_LIMIT_PER_MINUTE must be an integer/],
    [{ RATE_LIMIT_PER_MINUTE: 'lots' }, /^RATE_LIMIT_PER_MINUTE must be an integer/],
    [{ CORS_ORIGINS: '*' }, /^CORS_ORIGINS must list origins/],
    [
      { CORS_ORIGINS: 'https://app.example/' },
      /^CORS_ORIGINS must list origins.*"https:\/\/app\.example\/"/,
    ],
    [{ CORS_ORIGINS: 'https://ok.example,app.example' }, /^CORS_ORIGINS .*"app\.example"/],
    [{ CORS_ORIGINS: 'ftp://files.example' }, /^CORS_ORIGINS must list origins/],
    [{ RATE_LIMIT_PER_MINUTE: '100001' }, /^RATE_LIMIT_PER_MINUTE must be an integer/],
    [{ AUTH_FAILURES_PER_MINUTE: '-1' }, /^AUTH_FAILURES_PER_MINUTE must be an integer/],
    [{ AUTH_FAILURES_PER_MINUTE: '100001' }, /^AUTH_FAILURES_PER_MINUTE must be an integer/],
    [{ TRUST_PROXY: 'true' }, /^TRUST_PROXY must be a hop count/],
    [{ TRUST_PROXY: '0' }, /^TRUST_PROXY must be a hop count/],
    [{ WEBHOOK_ALLOW_HTTP: 'yes' }, /^WEBHOOK_ALLOW_HTTP must be true or false/],
    [{ WEBHOOK_RETRY_SCHEDULE: '5s,soon' }, /^WEBHOOK_RETRY_SCHEDULE must be durations/],
    [{ WEBHOOK_RETRY_SCHEDULE: '31d' }, /^WEBHOOK_RETRY_SCHEDULE delays may be at most 30 days/],
    [{ WEBHOOK_TIMEOUT_MS: '50' }, /^WEBHOOK_TIMEOUT_MS must be an integer/],
    [{ TRUST_PROXY: '10.0.0.0/8,proxy.internal' }, /^TRUST_PROXY must be a hop count/],
    [{ OUTBOX_TIMEOUT_MS: '50' }, /^OUTBOX_TIMEOUT_MS must be an integer/],
    [{ OUTBOX_CONCURRENCY: '0' }, /^OUTBOX_CONCURRENCY must be an integer/],
    [{ OUTBOX_CONCURRENCY: '101' }, /^OUTBOX_CONCURRENCY must be an integer/],
  ])('refuses %j with one line naming the variable', (override, message) => {
    const attempt = () => loadConfig({ ...valid, ...override });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
    try {
      attempt();
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('accepts a JWKS URL instead of a secret, and a base64 encryption key', () => {
    const config = loadConfig({
      ...valid,
      JWT_SECRET: undefined,
      JWT_JWKS_URL: 'https://id.example/.well-known/jwks.json',
      ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    });
    expect(config.jwt).toMatchObject({
      secret: null,
      jwksUrl: 'https://id.example/.well-known/jwks.json',
    });
  });

  it('turns the rate limit off with 0 and reads a list of CORS origins', () => {
    const config = loadConfig({
      ...valid,
      RATE_LIMIT_PER_MINUTE: '0',
      CORS_ORIGINS: ' https://dash.example.com , http://localhost:3000,',
    });
    expect(config.rateLimitPerMinute).toBe(0);
    expect(config.corsOrigins).toEqual(['https://dash.example.com', 'http://localhost:3000']);
  });

  it('reads TRUST_PROXY as a hop count or a list of addresses', () => {
    expect(loadConfig({ ...valid, TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ ...valid, TRUST_PROXY: '10.0.0.0/8, ::1' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '::1',
    ]);
  });

  it('gives an outbox claim a lease that outlives its delivery attempt', () => {
    expect(loadConfig(valid).outbox).toEqual({
      pollMs: 2_000,
      maxAttempts: 8,
      backoffMs: 2_000,
      timeoutMs: 10_000,
      concurrency: 10,
      leaseMs: 60_000,
    });
    const outbox = (env: Record<string, string>) => loadConfig({ ...valid, ...env }).outbox;
    expect(outbox({ OUTBOX_TIMEOUT_MS: '3000', OUTBOX_LEASE_MS: '5000' })).toMatchObject({
      timeoutMs: 3_000,
      leaseMs: 5_000,
    });
    // Shorter than the attempt plus its margin (a fifth of it, at least 1 s): raised to that.
    expect(outbox({ OUTBOX_LEASE_MS: '50' }).leaseMs).toBe(12_000);
    expect(outbox({ OUTBOX_TIMEOUT_MS: '3000', OUTBOX_LEASE_MS: '3500' }).leaseMs).toBe(4_000);
    expect(outbox({ OUTBOX_TIMEOUT_MS: '60000', OUTBOX_LEASE_MS: '60000' }).leaseMs).toBe(72_000);
  });
});
