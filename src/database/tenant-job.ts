import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { databaseLimitError } from '../common/connection-errors';
import { DomainError } from '../common/errors';
import { TenantDb } from './tenant-db';

/**
 * Background work done tenant by tenant on an interval (expiry sweeps, the outbox relay).
 * Each tenant's work runs in that tenant's own RLS transaction; a pass still running is joined
 * rather than doubled; any number of replicas may run the same job (the work claims rows with
 * FOR UPDATE SKIP LOCKED).
 */
export abstract class TenantJob implements OnApplicationBootstrap, OnApplicationShutdown {
  protected readonly logger = new Logger(this.constructor.name);
  private timer?: NodeJS.Timeout;
  private running: Promise<number> | null = null;

  protected constructor(
    protected readonly db: TenantDb,
    private readonly intervalMs: number,
  ) {}

  /** Does one tenant's share and says how many items it handled. */
  protected abstract forTenant(tenantId: string): Promise<number>;

  onApplicationBootstrap(): void {
    if (this.intervalMs <= 0) return;
    this.timer = setInterval(
      () => void this.runOnce().catch((e: unknown) => this.logger.error(e)),
      this.intervalMs,
    );
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  runOnce(): Promise<number> {
    this.running ??= this.pass().finally(() => (this.running = null));
    return this.running;
  }

  /**
   * One tenant whose share of connections is full, or whose rows are held past the lock
   * timeout, is skipped until the next pass: it must not hold up every other tenant's work.
   * Anything else (a database that cannot be reached, a fault) ends the pass as before.
   */
  private async pass(): Promise<number> {
    let handled = 0;
    for (const tenantId of await this.db.tenantIds()) {
      try {
        handled += await this.forTenant(tenantId);
      } catch (error) {
        if (!tenantBusy(error)) throw error;
        this.logger.warn({ tenantId, err: error }, 'tenant skipped until the next pass');
      }
    }
    if (handled > 0) this.logger.log({ handled }, 'pass done');
    return handled;
  }
}

/** The tenant's own load refused the work: its share was full, or its rows or statements ran long. */
function tenantBusy(error: unknown): boolean {
  const limit = databaseLimitError(error) ?? error;
  return limit instanceof DomainError && ['overloaded', 'busy', 'unavailable'].includes(limit.kind);
}
