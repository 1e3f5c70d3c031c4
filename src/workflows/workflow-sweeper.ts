import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TenantDb } from '../database/tenant-db';
import { TenantJob } from '../database/tenant-job';
import { WorkflowChangesService } from './workflow-changes.service';
import { WorkflowsRepository } from './workflows.repository';

/**
 * The longest between two looks for due and expired workflows: `workflow.due` is raised, and a
 * workflow expired, within a couple of seconds of its time (the promise is 5 s).
 */
export const WORKFLOW_TIMER_MS = 1_000;
/** The most workflows of each kind (due, expired) one transaction takes on. */
const BATCH = 500;

/**
 * The workflow timers: raises `workflow.due` once per next_action_at value, and expires open
 * workflows past expires_at, every second (or more often if the sweep interval says so; a sweep
 * interval of 0 stops it, and tests run passes themselves with `runOnce`).
 *
 * Why the workflow row is the timers' only state. Each row says whether its time has been
 * announced (`due_announced_for`, the next_action_at value announced) and whether it is open;
 * a pass claims due rows with FOR UPDATE SKIP LOCKED, marks or expires them and records their
 * events in one transaction. So:
 * - exactly once, with any number of replicas: a row is taken by one transaction at a time, and
 *   the event is written if and only if the mark is; a replica that meets a row another has
 *   marked finds it no longer due;
 * - nothing lost across restarts or crashes: nothing is held in memory, and a pass that dies
 *   rolls back its marks with its events, for the next pass to redo;
 * - a new next_action_at re-arms the timer by itself (it differs from the value announced), and
 *   a terminal workflow is never due: no write path has anything else to keep in step.
 * A queue job per workflow (graphile-worker, pg-boss) would copy next_action_at into a second
 * store that every write (advance, abort, expiry, a rule's action…) would have to reschedule or
 * cancel in step, and a missed one would announce a stale time or none.
 *
 * Finding the work costs one read a second per replica, whatever the number of tenants: as
 * hydracore_worker, whose policies show it the tenant id of due and expired rows and nothing
 * else, over partial indexes holding only open rows whose time is pending. Each such tenant is
 * then done in its own RLS transactions (TenantDb.run), a batch at a time.
 */
@Injectable()
export class WorkflowSweeper extends TenantJob {
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    db: TenantDb,
    private readonly repo: WorkflowsRepository,
    private readonly changes: WorkflowChangesService,
  ) {
    super(db, Math.min(config.sweepIntervalMs, WORKFLOW_TIMER_MS));
  }

  protected override tenants(): Promise<string[]> {
    return this.repo.tenantsWithTimersDue();
  }

  /** Batch after batch while one comes back full; at shutdown, none after the one under way. */
  protected async forTenant(tenantId: string): Promise<number> {
    let handled = 0;
    while (!this.stopping) {
      const { due, expired } = await this.db.run(tenantId, () =>
        this.changes.fireTimers(tenantId, BATCH),
      );
      handled += due + expired;
      if (due < BATCH && expired < BATCH) break;
    }
    return handled;
  }

  override async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await super.onApplicationShutdown();
  }
}
