import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { databaseLimitError } from '../common/connection-errors';
import { DomainError } from '../common/errors';
import { DatabaseOutage, outageOf, unreachable } from './database-outage';
import { TenantDb } from './tenant-db';

/**
 * The runner of background work done tenant by tenant on an interval (expiry sweeps, counter
 * compaction, the outbox relay). A job is a Nest provider extending this class: it says what it
 * does for one tenant and how often; the timer, the loop over tenants, skipping a busy tenant,
 * joining a pass still running rather than doubling it, and stopping at shutdown are all here.
 * Any number of replicas may run the same job (the work claims rows with FOR UPDATE SKIP LOCKED).
 */
export abstract class TenantJob implements OnApplicationBootstrap, OnApplicationShutdown {
  protected readonly logger = new Logger(this.constructor.name);
  /** Shared by the app's jobs: a database outage is logged once, not once a poll per job. */
  protected readonly outage: DatabaseOutage;
  private timer?: NodeJS.Timeout;
  private running: Promise<number> | null = null;

  /** @param intervalMs between passes; 0 or less runs no timer (runOnce still does a pass). */
  protected constructor(
    protected readonly db: TenantDb,
    private readonly intervalMs: number,
  ) {
    this.outage = outageOf(db);
  }

  /** Does one tenant's share and says how many items it handled. */
  protected abstract forTenant(tenantId: string): Promise<number>;

  /**
   * The tenants a pass visits: every tenant, unless the job can tell which have work (a timer
   * that runs every second looks for them with one cross-tenant read instead of visiting all).
   */
  protected tenants(): Promise<string[]> {
    return this.db.tenantIds();
  }

  onApplicationBootstrap(): void {
    if (this.intervalMs <= 0) return;
    this.timer = setInterval(
      () => void this.runOnce().catch((e: unknown) => this.failed(e)),
      this.intervalMs,
    );
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /**
   * A failure of a background look: an unreachable database is the outage's to log (once);
   * anything else is logged here with its error.
   */
  protected failed(error: unknown, fields: object = {}, message = 'pass failed'): void {
    if (this.outage.failed(this.constructor.name, error)) return;
    this.logger.error({ ...fields, err: error }, message);
  }

  runOnce(): Promise<number> {
    this.running ??= this.pass().finally(() => (this.running = null));
    return this.running;
  }

  /**
   * A suspended tenant is passed over. One tenant whose share of connections is full, or whose
   * rows are held past the lock timeout, is skipped until the next pass: it must not hold up
   * every other tenant's work. So is a tenant whose work fails for a reason of its own (a row
   * the job cannot handle), logged as an error. A database that cannot be reached ends the
   * pass: every tenant would fail alike.
   */
  private async pass(): Promise<number> {
    const begun = this.outage.begin();
    let handled = 0;
    const suspended = await this.db.suspensions.get();
    for (const tenantId of await this.tenants()) {
      if (suspended.has(tenantId)) continue; // nothing of a suspended tenant changes
      try {
        handled += await this.forTenant(tenantId);
      } catch (error) {
        if (unreachable(error)) throw error;
        if (tenantBusy(error)) {
          this.logger.warn({ tenantId, err: error }, 'tenant skipped until the next pass');
        } else {
          this.logger.error({ tenantId, err: error }, "tenant's work failed; the pass goes on");
        }
      }
    }
    this.outage.reached(this.constructor.name, begun);
    if (handled > 0) this.logger.log({ handled }, 'pass done');
    return handled;
  }
}

/** When a batch job runs, and how much of a tenant's work one transaction takes on. */
export interface BatchSchedule {
  /** Between passes; 0 or less runs no timer. */
  everyMs: number;
  /**
   * The most items one transaction handles: a tenant's work is repeated, each time in a new
   * transaction, while it comes back full, so a backlog is drained in one pass without holding
   * its rows in one long transaction. Unset: one call per tenant and pass.
   */
  batch?: number;
}

/** A job whose work for a tenant is done inside that tenant's own RLS transaction. */
export abstract class TenantBatchJob extends TenantJob {
  protected constructor(
    db: TenantDb,
    private readonly schedule: BatchSchedule,
  ) {
    super(db, schedule.everyMs);
  }

  /**
   * One transaction's work for the tenant, at most `limit` items (Infinity when the schedule
   * sets no batch); says how many it handled.
   */
  protected abstract inTransaction(tenantId: string, limit: number): Promise<number>;

  protected async forTenant(tenantId: string): Promise<number> {
    const limit = this.schedule.batch ?? Infinity;
    let handled = 0;
    for (let n = limit; n === limit; handled += n) {
      n = await this.db.run(tenantId, () => this.inTransaction(tenantId, limit));
    }
    return handled;
  }
}

/** The tenant's own load refused the work: its share was full, or its rows or statements ran long. */
function tenantBusy(error: unknown): boolean {
  const limit = databaseLimitError(error) ?? error;
  return limit instanceof DomainError && ['overloaded', 'busy', 'unavailable'].includes(limit.kind);
}
