import { Inject, Injectable } from '@nestjs/common';
import { databaseLimitError, isConnectionError } from '../common/connection-errors';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TenantDb } from '../database/tenant-db';
import { TenantJob } from '../database/tenant-job';
import { EventLogService, ScannedEvent } from '../event-log/event-log.service';
import { EventEvaluationRepository } from './event-evaluation.repository';
import { RAISED_TRIGGERS, raisedPayload } from './raised-triggers';
import { RuleActions, instanceActor } from './rule-actions';

/** Events one transaction evaluates at most: a backlog is taken in turns. */
const EVALUATION_BATCH = 100;
/**
 * The longest a tenant waits for a look when every wake of its feed was lost (a listener
 * reconnecting): well inside the seconds an event's rules may take to fire.
 */
const SAFETY_POLL_MS = 2_000;
/** A pass that found another replica evaluating the tenant looks again this soon. */
const BUSY_RETRY_MS = 100;
/**
 * Events this deep are not evaluated: a rule whose action raises what triggers it runs three
 * times (on depths 0, 1 and 2), and the event its third run raised stops the chain.
 */
const LOOP_GUARD_DEPTH = 3;

/** A pass's transaction found another replica evaluating the tenant. */
const BUSY = 'busy';

/**
 * Fires the rules of the events HydraCore raises (RAISED_TRIGGERS), each event exactly once,
 * within moments of its commit, on any number of replicas.
 *
 * Exactly once: each tenant has a cursor, the feed position through which its raised events have
 * been evaluated. A pass is one tenant transaction: it locks the cursor row (SKIP LOCKED: another
 * replica busy with the tenant means this one leaves it and looks again shortly), reads a batch
 * of raised events after it in feed order, evaluates each, carries out what fired (RuleActions,
 * as for a POSTed event), and advances the cursor. Actions, the events they raise, the rules'
 * cooldown claims and the cursor commit together: a crash repeats a whole batch or nothing.
 *
 * Soon: the sequencer of whichever replica numbers a tenant's events wakes every replica
 * (EventLogService.onGrowth) and the pass starts then; a look every few seconds across tenants
 * (as hydracore_worker) catches a tenant whose cursor is behind its feed when a wake was lost.
 *
 * What an action raises is one deeper than the event that fired its rule; events of
 * LOOP_GUARD_DEPTH or deeper are not evaluated: the firing log shows each rule they met as
 * loop_guard. One whose rules would create more than one event may fires none of them (logged
 * limit_exceeded) rather than failing its batch. An event whose rules or actions fail (a rule's
 * customer or instance gone, a refused action) is passed over: its savepoint takes back what
 * it did, the failure is logged with the tenant, event and error, and the cursor moves past it,
 * so one bad event never holds up its tenant. A failure of the database itself (unreachable, a
 * lock or statement timeout) is not the event's: the whole batch is left for the next pass.
 *
 * An event without an instance or a customer is passed over as well: rules are scoped to
 * instances and customers, cooldowns are kept per customer, and every action (an approval, a
 * workflow, a notification) is made for an instance's customer. Every raised type rules trigger
 * on names both.
 */
@Injectable()
export class EventEvaluator extends TenantJob {
  /** Per tenant: the pass under way in this process, and whether another was asked for. */
  private readonly passes = new Map<string, { again: boolean; done: Promise<number> }>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private stopped = false;
  private stopListening?: () => void;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    db: TenantDb,
    private readonly repo: EventEvaluationRepository,
    private readonly log: EventLogService,
    private readonly actions: RuleActions,
  ) {
    // Tests turn the look off with the sweepers; the wakes still come.
    super(db, Math.min(config.sweepIntervalMs, SAFETY_POLL_MS));
  }

  override onApplicationBootstrap(): void {
    this.stopListening = this.log.onGrowth((tenantId) => void this.evaluate(tenantId));
    super.onApplicationBootstrap();
  }

  override async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.stopListening?.();
    for (const timer of this.retries.values()) clearTimeout(timer);
    await super.onApplicationShutdown();
    await Promise.all([...this.passes.values()].map((p) => p.done));
  }

  /** Tenants whose cursor is behind their feed (a tenant with no cursor yet is at 0). */
  protected override async tenants(): Promise<string[]> {
    const [ends, cursors] = await Promise.all([this.log.feedEnds(), this.repo.cursors()]);
    return [...ends].filter(([id, end]) => end > (cursors.get(id) ?? 0)).map(([id]) => id);
  }

  protected forTenant(tenantId: string): Promise<number> {
    return this.evaluate(tenantId);
  }

  /**
   * Evaluates the tenant's raised events not evaluated yet, batch after batch until none is
   * left; says how many this process evaluated. A call during a pass of this process runs one
   * more batch after it rather than a second pass beside it.
   */
  evaluate(tenantId: string): Promise<number> {
    if (this.stopped) return Promise.resolve(0);
    const current = this.passes.get(tenantId);
    if (current) {
      current.again = true;
      return current.done;
    }
    const pass = { again: false, done: Promise.resolve(0) };
    pass.done = (async () => {
      let evaluated = 0;
      try {
        for (;;) {
          pass.again = false;
          const batch = await this.db.run(tenantId, () => this.batch(tenantId));
          if (batch === BUSY) {
            this.retryLater(tenantId);
            break;
          }
          evaluated += batch.evaluated;
          if ((!batch.more && !pass.again) || this.stopped) break;
        }
      } catch (error) {
        // A row held past the lock timeout (a request's, or another pass creating the tenant's
        // cursor) is soon free; anything else waits for the next wake or look.
        if (databaseLimitError(error)?.kind === 'busy') this.retryLater(tenantId);
        this.logger.warn({ tenantId, err: error }, 'raised events left for the next pass');
      } finally {
        this.passes.delete(tenantId);
      }
      return evaluated;
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
      void this.evaluate(tenantId);
    }, BUSY_RETRY_MS);
    timer.unref();
    this.retries.set(tenantId, timer);
  }

  /** One transaction's batch: see the class comment. */
  private async batch(
    tenantId: string,
  ): Promise<typeof BUSY | { evaluated: number; more: boolean }> {
    const after = await this.repo.claimCursor(tenantId);
    if (after === null) return BUSY;
    const read = await this.log.scan(tenantId, {
      after,
      types: RAISED_TRIGGERS,
      limit: EVALUATION_BATCH,
    });
    const onReceipt = await this.repo.takeEvaluated(
      tenantId,
      read.events.map((e) => e.id),
    );
    let evaluated = 0;
    for (const event of read.events) {
      if (onReceipt.has(event.id)) continue;
      await this.evaluateOne(tenantId, event);
      evaluated++;
    }
    // A pass that found nothing writes nothing: a wake for events already evaluated is free.
    if (read.through > after) await this.repo.advance(tenantId, read.through);
    return { evaluated, more: read.through < read.end };
  }

  private async evaluateOne(tenantId: string, event: ScannedEvent): Promise<void> {
    const payload = raisedPayload(event.type, event.data);
    const { instanceId, customerId } = event;
    if (!payload || !instanceId || !customerId) return;
    const firing = {
      principal: instanceActor(tenantId, instanceId),
      instanceId,
      customerId,
      event: event.type,
      eventId: event.id,
      depth: event.depth,
      payload,
    };
    try {
      // A savepoint: a failing event takes back only what it did itself. Over the per-event
      // effects limit nothing fires and the log says so: nobody waits on it to be refused.
      await this.db.manager.transaction(async () => {
        if (event.depth >= LOOP_GUARD_DEPTH) await this.actions.refuse(firing, 'loop_guard');
        else await this.actions.fire(firing, { onLimit: 'record' });
      });
    } catch (error) {
      if (isConnectionError(error) || databaseLimitError(error)) throw error;
      this.logger.warn(
        { tenantId, eventId: event.id, type: event.type, err: error },
        "a raised event's rules failed; passed over",
      );
    }
  }
}
