/**
 * THE LOADER BEFORE THE ZOD SCHEMA, kept only for app-config-legacy.spec.ts to compare against.
 * Typed configuration, validated once at start-up. Every variable is documented in .env.example.
 * A bad value raises ConfigError whose message is the single line printed before exiting.
 */
export class ConfigError extends Error {}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

export interface AppConfig {
  port: number;
  databaseUrl: string;
  /** Where migrations run: a direct connection, never a transaction-mode pooler. */
  migrationDatabaseUrl: string;
  dbPoolSize: number;
  /** Hot statements are named prepared statements; off behind a transaction-mode pooler. */
  dbPreparedStatements: boolean;
  /** Connections one tenant may hold at once; its further requests queue behind its own. */
  dbTenantMaxConnections: number;
  /** Longest a request's statement may run, and wait on a row lock, before it is cancelled. */
  dbStatementTimeoutMs: number;
  dbLockTimeoutMs: number;
  /** How fast one tenant may draw JSON documents (workflows, rule sets), in bytes a second. */
  tenantDocumentBytesPerSecond: number;
  /** Longest a client may take to send a whole request, headers and body; then 408. */
  requestTimeoutMs: number;
  jwt: {
    secret: string | null;
    jwksUrl: string | null;
    issuer: string | null;
    audience: string | null;
  };
  platformApiKey: string | null;
  /** 32 raw bytes for AES-256-GCM. */
  encryptionKey: Buffer;
  replayWebhookUrl: string | null;
  replayWebhookSecret: string | null;
  logLevel: LogLevel;
  /** How often events past retention are removed; the timers run at least every second. 0 = off. */
  sweepIntervalMs: number;
  /** Days an event is kept; older ones are removed on the sweepers' interval. */
  eventRetentionDays: number;
  /** How often the workflow list's counter rows are folded together; 0 turns it off. */
  countsCompactIntervalMs: number;
  /** Requests per minute per credential (per client IP without one), per replica; 0 = off. */
  rateLimitPerMinute: number;
  /** Wrong keys per minute per client network, per replica, before 429; 0 = off. */
  authFailuresPerMinute: number;
  /** Browser origins allowed by CORS; empty: no CORS headers at all. */
  corsOrigins: string[];
  /**
   * Which proxies' X-Forwarded-For to believe for the client address: none (false), the
   * nearest N hops, or these addresses/CIDRs.
   */
  trustProxy: false | number | string[];
  outbox: {
    /** How often the relay looks for due messages; 0 turns it off. */
    pollMs: number;
    maxAttempts: number;
    /** First retry delay; each further one doubles, with ±50% jitter. */
    backoffMs: number;
    /** One delivery attempt, from connecting to the response's body, is abandoned after this. */
    timeoutMs: number;
    /** Messages one replica claims and sends at once. */
    concurrency: number;
    /**
     * How long a claimed message stays claimed before another relay may retry it: at least its
     * attempt's timeout plus outboxLeaseMargin, so no claim runs out while its attempt runs.
     */
    leaseMs: number;
  };
  webhooks: {
    /** Endpoints may use plain http (development, loopback receivers in tests). */
    allowHttp: boolean;
    /** Endpoints may resolve to loopback, private or link-local addresses. */
    allowPrivateNetworks: boolean;
    /** A delivery attempt not answered 2xx within this is a failure. */
    timeoutMs: number;
    /** Delays before each retry; a delivery still failing after the last is `failed`. */
    retryScheduleMs: number[];
    /** How often each replica looks for due deliveries; 0 turns it off (the wakes still come). */
    pollMs: number;
  };
}

/** Injection token: AppConfig is an interface, so Nest needs a token to resolve it. */
export const APP_CONFIG = Symbol('APP_CONFIG');

type Env = Record<string, string | undefined>;

function optional(env: Env, name: string): string | null {
  const value = env[name]?.trim();
  return value ? value : null;
}

function required(env: Env, name: string, why = ''): string {
  const value = optional(env, name);
  if (value === null) throw new ConfigError(`${name} is required${why ? ` ${why}` : ''}`);
  return value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function url(env: Env, name: string, protocols: string[]): string | null {
  const raw = optional(env, name);
  if (raw === null) return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must use one of ${protocols.join(', ')}`);
  }
  return raw;
}

/** Origins exactly as browsers send them (`https://app.example.com`): no path, no wildcard. */
function origins(env: Env, name: string): string[] {
  const entries = (optional(env, name) ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    if (!/^https?:\/\//.test(entry) || !URL.canParse(entry) || new URL(entry).origin !== entry) {
      throw new ConfigError(
        `${name} must list origins like https://app.example.com, comma-separated; got "${entry}"`,
      );
    }
  }
  return entries;
}

const ADDRESS = /^[0-9a-fA-F:.]+(\/\d{1,3})?$/;

function trustProxy(env: Env, name: string): false | number | string[] {
  const raw = optional(env, name);
  if (raw === null) return false;
  const refuse = () =>
    new ConfigError(
      `${name} must be a hop count (1-10) or proxy addresses/CIDRs, comma-separated; got "${raw}"`,
    );
  if (/^\d+$/.test(raw)) {
    if (Number(raw) >= 1 && Number(raw) <= 10) return Number(raw);
    throw refuse();
  }
  const entries = raw.split(',').map((entry) => entry.trim());
  if (entries.every((entry) => ADDRESS.test(entry))) return entries;
  throw refuse();
}

function encryptionKey(raw: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length !== 32) {
    throw new ConfigError('ENCRYPTION_KEY must be 32 bytes, as 64 hex characters or base64');
  }
  return key;
}

function flag(env: Env, name: string): boolean {
  const raw = optional(env, name);
  if (raw === null || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new ConfigError(`${name} must be true or false`);
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A comma-separated list of durations such as `5s,5m,2h`. */
function schedule(env: Env, name: string, fallback: string): number[] {
  const raw = optional(env, name) ?? fallback;
  const delays = raw.split(',').map((part) => {
    const m = /^\s*(\d{1,9})(ms|s|m|h|d)\s*$/.exec(part);
    if (!m) throw new ConfigError(`${name} must be durations like 5s,5m,2h (ms, s, m, h or d)`);
    return Number(m[1]) * UNIT_MS[m[2]];
  });
  if (delays.length > 50) throw new ConfigError(`${name} may have at most 50 delays`);
  if (delays.some((d) => d > 30 * UNIT_MS.d)) {
    throw new ConfigError(`${name} delays may be at most 30 days each`);
  }
  return delays;
}

/**
 * What a claim's lease keeps beyond its attempt's timeout: the claim's commit before the attempt
 * starts, and the abort's timer firing late on a busy process.
 */
export function outboxLeaseMargin(timeoutMs: number): number {
  return Math.max(1_000, Math.ceil(timeoutMs / 5));
}

function outbox(env: Env): AppConfig['outbox'] {
  const timeoutMs = integer(env, 'OUTBOX_TIMEOUT_MS', 10_000, 100, 600_000);
  const leaseMs = integer(env, 'OUTBOX_LEASE_MS', 60_000, 10, 3_600_000);
  return {
    pollMs: integer(env, 'OUTBOX_POLL_INTERVAL_MS', 2_000, 0, 3_600_000),
    maxAttempts: integer(env, 'OUTBOX_MAX_ATTEMPTS', 8, 1, 100),
    backoffMs: integer(env, 'OUTBOX_BACKOFF_MS', 2_000, 1, 3_600_000),
    timeoutMs,
    concurrency: integer(env, 'OUTBOX_CONCURRENCY', 10, 1, 100),
    // A shorter lease could run out while its attempt still runs, and another replica would
    // send the message again meanwhile: it is raised to cover the attempt.
    leaseMs: Math.max(leaseMs, timeoutMs + outboxLeaseMargin(timeoutMs)),
  };
}

/** Validates the environment. DATABASE_URL must already be resolved (embedded mode fills it in). */
export function loadConfig(env: Env): AppConfig {
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  if (databaseUrl === null) throw new ConfigError('DATABASE_URL is required');

  const jwksUrl = url(env, 'JWT_JWKS_URL', ['https:', 'http:']);
  const secret = jwksUrl
    ? optional(env, 'JWT_SECRET')
    : required(env, 'JWT_SECRET', 'unless JWT_JWKS_URL is set');
  if (secret !== null && secret.length < 32) {
    throw new ConfigError('JWT_SECRET must be at least 32 characters');
  }

  const platformApiKey = optional(env, 'PLATFORM_API_KEY');
  if (platformApiKey !== null && platformApiKey.length < 24) {
    throw new ConfigError('PLATFORM_API_KEY must be at least 24 characters');
  }

  const replayWebhookUrl = url(env, 'REPLAY_WEBHOOK_URL', ['https:', 'http:']);
  const replayWebhookSecret = optional(env, 'REPLAY_WEBHOOK_SECRET');
  if (replayWebhookUrl !== null && replayWebhookSecret === null) {
    throw new ConfigError('REPLAY_WEBHOOK_SECRET is required when REPLAY_WEBHOOK_URL is set');
  }

  const logLevel = (optional(env, 'LOG_LEVEL') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  }

  const dbPoolSize = integer(env, 'DB_POOL_SIZE', 10, 1, 200);
  return {
    port: integer(env, 'PORT', 8000, 0, 65535),
    databaseUrl,
    migrationDatabaseUrl:
      url(env, 'MIGRATION_DATABASE_URL', ['postgres:', 'postgresql:']) ?? databaseUrl,
    dbPoolSize,
    dbPreparedStatements:
      optional(env, 'DB_PREPARED_STATEMENTS') === null || flag(env, 'DB_PREPARED_STATEMENTS'),
    dbTenantMaxConnections: integer(
      env,
      'DB_TENANT_MAX_CONNECTIONS',
      Math.max(1, Math.floor(dbPoolSize / 2)),
      1,
      dbPoolSize,
    ),
    dbStatementTimeoutMs: integer(env, 'DB_STATEMENT_TIMEOUT_MS', 5_000, 100, 600_000),
    dbLockTimeoutMs: integer(env, 'DB_LOCK_TIMEOUT_MS', 2_000, 10, 600_000),
    tenantDocumentBytesPerSecond: integer(
      env,
      'TENANT_DOCUMENT_BYTES_PER_SECOND',
      16 * 1024 * 1024,
      1024 * 1024,
      1024 * 1024 * 1024,
    ),
    // No off switch: a request that never finishes arriving holds its socket forever.
    requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', 30_000, 100, 600_000),
    jwt: {
      secret,
      jwksUrl,
      issuer: optional(env, 'JWT_ISSUER'),
      audience: optional(env, 'JWT_AUDIENCE'),
    },
    platformApiKey,
    encryptionKey: encryptionKey(required(env, 'ENCRYPTION_KEY')),
    replayWebhookUrl,
    replayWebhookSecret,
    logLevel,
    sweepIntervalMs: integer(env, 'SWEEP_INTERVAL_MS', 60_000, 0, 86_400_000),
    eventRetentionDays: integer(env, 'EVENT_RETENTION_DAYS', 30, 1, 3650),
    countsCompactIntervalMs: integer(env, 'COUNTS_COMPACT_INTERVAL_MS', 1_000, 0, 3_600_000),
    // Capped: the throttler keeps one timestamp per hit and spreads them into Math.min().
    rateLimitPerMinute: integer(env, 'RATE_LIMIT_PER_MINUTE', 1_200, 0, 100_000),
    authFailuresPerMinute: integer(env, 'AUTH_FAILURES_PER_MINUTE', 60, 0, 100_000),
    corsOrigins: origins(env, 'CORS_ORIGINS'),
    trustProxy: trustProxy(env, 'TRUST_PROXY'),
    outbox: outbox(env),
    webhooks: {
      allowHttp: flag(env, 'WEBHOOK_ALLOW_HTTP'),
      allowPrivateNetworks: flag(env, 'WEBHOOK_ALLOW_PRIVATE_NETWORKS'),
      timeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
      retryScheduleMs: schedule(env, 'WEBHOOK_RETRY_SCHEDULE', '5s,5m,30m,2h,5h,10h,10h'),
      pollMs: integer(env, 'WEBHOOK_POLL_INTERVAL_MS', 1_000, 0, 3_600_000),
    },
  };
}
