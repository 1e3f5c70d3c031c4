import { Logger } from '@nestjs/common';
import { QueryRunnerAlreadyReleasedError } from 'typeorm';
import { isConnectionError } from '../common/connection-errors';
import { DomainError, commitOutcomeUnknown, databaseUnavailable } from '../common/errors';

/** Where the outage lines go: Nest's Logger, or a test's recorder. */
export interface OutageLogger {
  warn(fields: object, message: string): void;
}

/**
 * The database seen from the background jobs: up, or unreachable since a time. A job that polls
 * every second would otherwise log a full stack trace every second, per job, for as long as the
 * database is down: it logs one warning (no stack) when the first job meets the outage, and one
 * when a job reaches the database again. Errors of any other kind are not outages: the
 * job logs them itself, as before.
 *
 * One per app (`outageOf`), shared by all its jobs: an outage is the database's, not a job's.
 */
export class DatabaseOutage {
  private since: number | null = null;
  /** The latest failure of any job: only work begun after it proves the database back. */
  private lastFailure = -Infinity;

  constructor(
    private readonly logger: OutageLogger = new Logger('DatabaseOutage'),
    private readonly now: () => number = Date.now,
  ) {}

  get down(): boolean {
    return this.since !== null;
  }

  /**
   * A job's failure: true when it was the database being unreachable (then logged here, at
   * most once an outage, and the job logs nothing), false for the job to log itself.
   */
  failed(job: string, error: unknown): boolean {
    if (!unreachable(error)) return false;
    this.lastFailure = this.now();
    if (this.since === null) {
      this.since = this.now();
      this.logger.warn(
        { job, error: describe(error) },
        'database unreachable: background jobs retry on their schedule, quietly until it is back',
      );
    }
    return true;
  }

  /** When a job begins work whose success it will report to `reached`. */
  begin(): number {
    return this.now();
  }

  /**
   * A job's work begun at `begunAt` (from `begin`) reached the database. It ends the outage only
   * if no job failed since it began: while a server shuts down, work on a connection opened
   * before still succeeds for a moment among the failures, and the outage is not over.
   */
  reached(job: string, begunAt: number): void {
    if (this.since === null || begunAt <= this.lastFailure) return;
    const downMs = this.now() - this.since;
    this.since = null;
    // At the level of the line it closes: a log kept at warn shows the outage's end too.
    this.logger.warn({ job, downMs }, 'database reachable again');
  }
}

/** What TenantDb turns a lost connection into, besides the driver's own errors. */
const LOST = new Set([databaseUnavailable().message, commitOutcomeUnknown().message]);

/**
 * The database could not be reached, or the connection broke: not a query it refused. TypeORM
 * releases a query runner whose connection broke, and its next query says so.
 */
export function unreachable(error: unknown): boolean {
  return (
    isConnectionError(error) ||
    error instanceof QueryRunnerAlreadyReleasedError ||
    (error instanceof DomainError && LOST.has(error.message))
  );
}

/** The error's code and first line: which outage it is, without a stack or a statement. */
function describe(error: unknown): string {
  const { code, message, driverError } = error as {
    code?: unknown;
    message?: unknown;
    driverError?: { code?: unknown; message?: unknown };
  };
  const text = String(driverError?.message ?? message ?? error).split('\n')[0];
  const kind = driverError?.code ?? code;
  return typeof kind === 'string' && !text.includes(kind) ? `${kind}: ${text}` : text;
}

const outages = new WeakMap<object, DatabaseOutage>();

/**
 * The outage state of the app that `owner` belongs to: any object every job of one app holds,
 * the same for all of them (TenantDb). Replicas in one process keep states of their own.
 */
export function outageOf(owner: object): DatabaseOutage {
  let outage = outages.get(owner);
  if (!outage) {
    outage = new DatabaseOutage();
    outages.set(owner, outage);
  }
  return outage;
}
