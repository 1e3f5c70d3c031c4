import { resolve } from 'node:path';
import { z } from 'zod';
import { AppConfig, LOG_LEVELS } from './config.types';
import {
  atLeast,
  encryptionKey,
  flag,
  integer,
  oneOf,
  optional,
  origins,
  required,
  schedule,
  text,
  trustProxy,
  url,
  withDefault,
} from './fields';

const POSTGRES = ['postgres:', 'postgresql:'];
const HTTP = ['https:', 'http:'];

/** Every variable HydraCore reads, in the order a list of problems names them. */
const variables = {
  HYDRACORE_DATA_DIR: withDefault(text, '.data'),
  DATABASE_URL: required(url(POSTGRES)),
  MIGRATION_DATABASE_URL: optional(url(POSTGRES)),
  JWT_JWKS_URL: optional(url(HTTP)),
  JWT_SECRET: optional(atLeast(32)),
  JWT_ISSUER: optional(text),
  JWT_AUDIENCE: optional(text),
  JWT_JWKS_REFRESH_MS: withDefault(integer(100, 86_400_000), '300000'),
  JWT_JWKS_COOLDOWN_MS: withDefault(integer(100, 3_600_000), '5000'),
  PLATFORM_API_KEY: optional(atLeast(24)),
  ENCRYPTION_KEY: required(encryptionKey),
  REPLAY_WEBHOOK_URL: optional(url(HTTP)),
  REPLAY_WEBHOOK_SECRET: optional(text),
  LOG_LEVEL: withDefault(oneOf(LOG_LEVELS), 'info'),
  LOG_FORMAT: optional(oneOf(['json', 'pretty'])),
  METRICS_TOKEN: optional(atLeast(16)),
  PORT: withDefault(integer(0, 65535), '8000'),
  DB_POOL_SIZE: withDefault(integer(1, 200), '10'),
  // Its ceiling is the pool's size, checked below once that is known.
  DB_TENANT_MAX_CONNECTIONS: optional(integer(1, 200)),
  DB_PREPARED_STATEMENTS: withDefault(flag, 'true'),
  DB_STATEMENT_TIMEOUT_MS: withDefault(integer(100, 600_000), '5000'),
  DB_LOCK_TIMEOUT_MS: withDefault(integer(10, 600_000), '2000'),
  TENANT_DOCUMENT_BYTES_PER_SECOND: withDefault(
    integer(1024 * 1024, 1024 * 1024 * 1024),
    String(16 * 1024 * 1024),
  ),
  // No off switch: a request that never finishes arriving holds its socket forever.
  REQUEST_TIMEOUT_MS: withDefault(integer(100, 600_000), '30000'),
  SWEEP_INTERVAL_MS: withDefault(integer(0, 86_400_000), '60000'),
  EVENT_RETENTION_DAYS: withDefault(integer(1, 3650), '30'),
  COUNTS_COMPACT_INTERVAL_MS: withDefault(integer(0, 3_600_000), '1000'),
  // Capped: the throttler keeps one timestamp per hit and spreads them into Math.min().
  RATE_LIMIT_PER_MINUTE: withDefault(integer(0, 100_000), '1200'),
  AUTH_FAILURES_PER_MINUTE: withDefault(integer(0, 100_000), '60'),
  CORS_ORIGINS: withDefault(origins, ''),
  TRUST_PROXY: withDefault(trustProxy, 'false'),
  OUTBOX_POLL_INTERVAL_MS: withDefault(integer(0, 3_600_000), '2000'),
  OUTBOX_MAX_ATTEMPTS: withDefault(integer(1, 100), '8'),
  OUTBOX_BACKOFF_MS: withDefault(integer(1, 3_600_000), '2000'),
  OUTBOX_TIMEOUT_MS: withDefault(integer(100, 600_000), '10000'),
  OUTBOX_CONCURRENCY: withDefault(integer(1, 100), '10'),
  OUTBOX_LEASE_MS: withDefault(integer(10, 3_600_000), '60000'),
  WEBHOOK_ALLOW_HTTP: withDefault(flag, 'false'),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: withDefault(flag, 'false'),
  WEBHOOK_TIMEOUT_MS: withDefault(integer(100, 120_000), '10000'),
  WEBHOOK_RETRY_SCHEDULE: withDefault(schedule, '5s,5m,30m,2h,5h,10h,10h'),
  WEBHOOK_POLL_INTERVAL_MS: withDefault(integer(0, 3_600_000), '1000'),
};

/**
 * What a claim's lease keeps beyond its attempt's timeout: the claim's commit before the attempt
 * starts, and the abort's timer firing late on a busy process.
 */
export function outboxLeaseMargin(timeoutMs: number): number {
  return Math.max(1_000, Math.ceil(timeoutMs / 5));
}

const { HYDRACORE_DATA_DIR, ...serverVariables } = variables;

/** The server's whole configuration. DATABASE_URL must be resolved (embedded mode fills it in). */
export const appConfigSchema = z
  .object(serverVariables)
  .superRefine((env, ctx) => {
    const problem = (name: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [name], message });
    if (env.JWT_SECRET === null && env.JWT_JWKS_URL === null) {
      problem('JWT_SECRET', 'is required unless JWT_JWKS_URL is set');
    }
    if (env.REPLAY_WEBHOOK_URL !== null && env.REPLAY_WEBHOOK_SECRET === null) {
      problem('REPLAY_WEBHOOK_SECRET', 'is required when REPLAY_WEBHOOK_URL is set');
    }
    const tenantMax = env.DB_TENANT_MAX_CONNECTIONS;
    if (tenantMax !== null && tenantMax > env.DB_POOL_SIZE) {
      problem(
        'DB_TENANT_MAX_CONNECTIONS',
        `must be an integer between 1 and ${env.DB_POOL_SIZE}, got "${tenantMax}"`,
      );
    }
  })
  .transform((env): AppConfig => ({
    port: env.PORT,
    databaseUrl: env.DATABASE_URL,
    migrationDatabaseUrl: env.MIGRATION_DATABASE_URL ?? env.DATABASE_URL,
    dbPoolSize: env.DB_POOL_SIZE,
    dbPreparedStatements: env.DB_PREPARED_STATEMENTS,
    dbTenantMaxConnections:
      env.DB_TENANT_MAX_CONNECTIONS ?? Math.max(1, Math.floor(env.DB_POOL_SIZE / 2)),
    dbStatementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
    dbLockTimeoutMs: env.DB_LOCK_TIMEOUT_MS,
    tenantDocumentBytesPerSecond: env.TENANT_DOCUMENT_BYTES_PER_SECOND,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    jwt: {
      secret: env.JWT_SECRET,
      jwksUrl: env.JWT_JWKS_URL,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      jwksRefreshMs: env.JWT_JWKS_REFRESH_MS,
      jwksCooldownMs: env.JWT_JWKS_COOLDOWN_MS,
    },
    platformApiKey: env.PLATFORM_API_KEY,
    encryptionKey: env.ENCRYPTION_KEY,
    replayWebhookUrl: env.REPLAY_WEBHOOK_URL,
    replayWebhookSecret: env.REPLAY_WEBHOOK_SECRET,
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
    metricsToken: env.METRICS_TOKEN,
    sweepIntervalMs: env.SWEEP_INTERVAL_MS,
    eventRetentionDays: env.EVENT_RETENTION_DAYS,
    countsCompactIntervalMs: env.COUNTS_COMPACT_INTERVAL_MS,
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
    authFailuresPerMinute: env.AUTH_FAILURES_PER_MINUTE,
    corsOrigins: env.CORS_ORIGINS,
    trustProxy: env.TRUST_PROXY,
    outbox: {
      pollMs: env.OUTBOX_POLL_INTERVAL_MS,
      maxAttempts: env.OUTBOX_MAX_ATTEMPTS,
      backoffMs: env.OUTBOX_BACKOFF_MS,
      timeoutMs: env.OUTBOX_TIMEOUT_MS,
      concurrency: env.OUTBOX_CONCURRENCY,
      // A shorter lease could run out while its attempt still runs, and another replica
      // would send the message again meanwhile: it is raised to cover the attempt.
      leaseMs: Math.max(
        env.OUTBOX_LEASE_MS,
        env.OUTBOX_TIMEOUT_MS + outboxLeaseMargin(env.OUTBOX_TIMEOUT_MS),
      ),
    },
    webhooks: {
      allowHttp: env.WEBHOOK_ALLOW_HTTP,
      allowPrivateNetworks: env.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      retryScheduleMs: env.WEBHOOK_RETRY_SCHEDULE,
      pollMs: env.WEBHOOK_POLL_INTERVAL_MS,
    },
  }));

/**
 * What the server reads before anything else: where embedded mode keeps its files, and whether
 * there is a database of its own (DATABASE_URL unset or blank: embedded mode).
 */
export const startupSchema = z
  .object({ HYDRACORE_DATA_DIR, DATABASE_URL: optional(url(POSTGRES)) })
  .transform((env) => ({
    dataDir: resolve(env.HYDRACORE_DATA_DIR),
    databaseUrl: env.DATABASE_URL,
  }));

/** The migration CLI: the database, and the direct connection migrations take when it differs. */
export const migrationSchema = z
  .object({
    DATABASE_URL: required(
      url(POSTGRES),
      '(npm start prints the embedded database URL; it also migrates on start)',
    ),
    MIGRATION_DATABASE_URL: variables.MIGRATION_DATABASE_URL,
  })
  .transform((env) => ({
    databaseUrl: env.DATABASE_URL,
    migrationDatabaseUrl: env.MIGRATION_DATABASE_URL ?? env.DATABASE_URL,
  }));

/** `npm run token`: the signing secret (else embedded mode's, under the data directory). */
export const tokenSchema = z
  .object({
    HYDRACORE_DATA_DIR,
    JWT_SECRET: variables.JWT_SECRET,
    JWT_ISSUER: variables.JWT_ISSUER,
    JWT_AUDIENCE: variables.JWT_AUDIENCE,
  })
  .transform((env) => ({
    dataDir: resolve(env.HYDRACORE_DATA_DIR),
    jwtSecret: env.JWT_SECRET,
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
  }));
