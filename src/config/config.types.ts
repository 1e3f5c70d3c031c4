/** What the configuration holds once validated; every variable is documented in .env.example. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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
    /** The JWKS is read again when older than this: a withdrawn key verifies no longer. */
    jwksRefreshMs: number;
    /** Reads of the JWKS start at most this often (unknown kids, refreshes, retries). */
    jwksCooldownMs: number;
  };
  platformApiKey: string | null;
  /** 32 raw bytes for AES-256-GCM. */
  encryptionKey: Buffer;
  replayWebhookUrl: string | null;
  replayWebhookSecret: string | null;
  logLevel: LogLevel;
  /** Readable lines or JSON; null: readable on a terminal, JSON otherwise. */
  logFormat: 'json' | 'pretty' | null;
  /** The bearer token GET /metrics requires; null: no /metrics (404). */
  metricsToken: string | null;
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
