import { databaseLimitError } from '../common/connection-errors';
import { TenantDb } from '../database/tenant-db';
import { TenantJob } from '../database/tenant-job';
import { EventLogService } from './event-log.service';

/** A follower's batch found another replica holding the tenant's cursor. */
export const CURSOR_BUSY = 'busy';

/** What one batch did: how many events it handled, and whether more are waiting. */
export type FollowedBatch = typeof CURSOR_BUSY | { handled: number; more: boolean };

/** A pass that found another replica holding the tenant's cursor looks again this soon. */
const BUSY_RETRY_MS = 100;

/**
 * A consumer of the log that keeps, per tenant, a cursor in a table of its own (the rule
 * evaluator, the webhook fan-out) and acts on each event after it exactly once, moments after
 * its commit, on any number of replicas.
 *
 * A subclass says how to read the cursors (`cursors`) and what one batch does (`batch`: one
 * tenant transaction that claims the cursor row with SKIP LOCKED, handles the events after it
 * and advances it, so a crash repeats a whole batch or nothing). This class decides when batches
 * run: on the wake the sequencer of any replica sends when a tenant's feed grows, in turn until
 * the tenant is caught up; again shortly when another replica held the cursor; and on a look
 * every few seconds across tenants for a cursor behind its feed, in case a wake was lost.
 */
export abstract class FeedFollower extends TenantJob {
  /** Per tenant: the pass under way in this process, and whether another was asked for. */
  private readonly passes = new Map<string, { again: boolean; done: Promise<number> }>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private stopped = false;
  private stopListening?: () => void;

  protected constructor(
    db: TenantDb,
    lookEveryMs: number,
    protected readonly log: EventLogService,
  ) {
    super(db, lookEveryMs);
  }

  /** Each tenant's cursor, across tenants (a tenant with none is at 0). */
  protected abstract cursors(): Promise<Map<string, number>>;

  /** One transaction's batch for the tenant: see the class comment. */
  protected abstract batch(tenantId: string): Promise<FollowedBatch>;

  override onApplicationBootstrap(): void {
    this.stopListening = this.log.onGrowth((tenantId) => void this.follow(tenantId));
    super.onApplicationBootstrap();
  }

  override async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.stopListening?.();
    for (const timer of this.retries.values()) clearTimeout(timer);
    await super.onApplicationShutdown();
    await Promise.all([...this.passes.values()].map((p) => p.done));
  }

  /**
   * Passes under way in this process, to their end; says how many events they handled. Tests
   * wait for them: `runOnce` alone is not enough, as a pass woken by the sequencer whose commit
   * is already visible is not joined (its cursor reads as caught up), yet what follows its
   * commit (a kick, the sequencing of the events it raised) is still to come.
   */
  async settled(): Promise<number> {
    let handled = 0;
    while (this.passes.size > 0) {
      const counts = await Promise.all([...this.passes.values()].map((p) => p.done));
      handled += counts.reduce((sum, n) => sum + n, 0);
    }
    return handled;
  }

  /** Tenants whose cursor is behind their feed. */
  protected override async tenants(): Promise<string[]> {
    const [ends, cursors] = await Promise.all([this.log.feedEnds(), this.cursors()]);
    return [...ends].filter(([id, end]) => end > (cursors.get(id) ?? 0)).map(([id]) => id);
  }

  protected forTenant(tenantId: string): Promise<number> {
    return this.follow(tenantId);
  }

  /**
   * Handles the tenant's events after its cursor, batch after batch until none is left; says
   * how many this process handled. A call during a pass of this process runs one more batch
   * after it rather than a second pass beside it.
   */
  follow(tenantId: string): Promise<number> {
    if (this.stopped) return Promise.resolve(0);
    const current = this.passes.get(tenantId);
    if (current) {
      current.again = true;
      return current.done;
    }
    const pass = { again: false, done: Promise.resolve(0) };
    pass.done = (async () => {
      let handled = 0;
      try {
        // Woken by a commit made just before a suspension: left for when it is active again.
        if ((await this.db.suspensions.get()).has(tenantId)) return 0;
        const begun = this.outage.begin();
        for (;;) {
          pass.again = false;
          const batch = await this.db.run(tenantId, () => this.batch(tenantId));
          if (batch === CURSOR_BUSY) {
            this.retryLater(tenantId);
            break;
          }
          handled += batch.handled;
          if ((!batch.more && !pass.again) || this.stopped) break;
        }
        this.outage.reached(this.constructor.name, begun);
      } catch (error) {
        // A row held past the lock timeout (a request's, or another pass creating the tenant's
        // cursor) is soon free; anything else waits for the next wake or look.
        if (databaseLimitError(error)?.kind === 'busy') this.retryLater(tenantId);
        if (!this.outage.failed(this.constructor.name, error)) {
          this.logger.warn({ tenantId, err: error }, 'events left for the next pass');
        }
      } finally {
        this.passes.delete(tenantId);
      }
      return handled;
    })();
    this.passes.set(tenantId, pass);
    return pass.done;
  }

  /**
   * The holder of the tenant's cursor may have read its batch before the events this wake is
   * about were numbered: look again once it is likely done, until this process gets the cursor.
   */
  private retryLater(tenantId: string): void {
    if (this.stopped || this.retries.has(tenantId)) return;
    const timer = setTimeout(() => {
      this.retries.delete(tenantId);
      void this.follow(tenantId);
    }, BUSY_RETRY_MS);
    timer.unref();
    this.retries.set(tenantId, timer);
  }
}
