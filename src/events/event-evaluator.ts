import { Inject, Injectable } from '@nestjs/common';
import { databaseLimitError, isConnectionError } from '../common/connection-errors';
import { DomainError } from '../common/errors';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TenantDb } from '../database/tenant-db';
import { EventLogService, ScannedEvent } from '../event-log/event-log.service';
import { CURSOR_BUSY, FeedFollower, FollowedBatch } from '../event-log/feed-follower';
import { EventEvaluationRepository } from './event-evaluation.repository';
import { RAISED_DATA_PATHS, RAISED_TRIGGERS, atPaths, raisedPayload } from './raised-triggers';
import { RuleActions, instanceActor } from './rule-actions';

/** Events one transaction evaluates at most: a backlog is taken in turns. */
const EVALUATION_BATCH = 100;
/**
 * The longest a tenant waits for a look when every wake of its feed was lost (a listener
 * reconnecting): well inside the seconds an event's rules may take to fire.
 */
const SAFETY_POLL_MS = 2_000;
/**
 * Events this deep are not evaluated: a rule whose action raises what triggers it runs three
 * times (on depths 0, 1 and 2), and the event its third run raised stops the chain.
 */
const LOOP_GUARD_DEPTH = 3;

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
 * Soon: FeedFollower runs a pass when the tenant's feed grows, on every replica, and looks every
 * few seconds for a tenant whose cursor is behind its feed in case a wake was lost.
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
export class EventEvaluator extends FeedFollower {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    db: TenantDb,
    private readonly repo: EventEvaluationRepository,
    log: EventLogService,
    private readonly actions: RuleActions,
  ) {
    // Tests turn the look off with the sweepers; the wakes still come.
    super(db, Math.min(config.sweepIntervalMs, SAFETY_POLL_MS), log);
  }

  /** Evaluates the tenant's raised events not evaluated yet: see FeedFollower.follow. */
  evaluate(tenantId: string): Promise<number> {
    return this.follow(tenantId);
  }

  protected cursors(): Promise<Map<string, number>> {
    return this.repo.cursors();
  }

  /** One transaction's batch: see the class comment. */
  protected async batch(tenantId: string): Promise<FollowedBatch> {
    const after = await this.repo.claimCursor(tenantId);
    if (after === null) return CURSOR_BUSY;
    const read = await this.log.scan(tenantId, {
      after,
      types: RAISED_TRIGGERS,
      limit: EVALUATION_BATCH,
      paths: RAISED_DATA_PATHS,
    });
    const onReceipt = await this.repo.takeEvaluated(
      tenantId,
      read.events.map((e) => e.id),
    );
    // Most raised events meet no rule at all (no rule triggers on their type): they need no
    // savepoint and no reading of the rules' version each.
    const triggered =
      read.events.length > 0 ? await this.actions.triggersInForce(tenantId) : new Set<string>();
    let evaluated = 0;
    for (const event of read.events) {
      if (onReceipt.has(event.id)) continue;
      if (triggered.has(event.type)) await this.evaluateOne(tenantId, event);
      evaluated++;
    }
    // A pass that found nothing writes nothing: a wake for events already evaluated is free.
    if (read.through > after) await this.repo.advance(tenantId, read.through);
    return { handled: evaluated, more: read.through < read.end };
  }

  private async evaluateOne(tenantId: string, event: ScannedEvent): Promise<void> {
    const payload = raisedPayload(event.type, atPaths(event.data));
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
    for (let attempt = 1; ; attempt++) {
      try {
        // A savepoint: a failing event takes back only what it did itself. Over the per-event
        // effects limit nothing fires and the log says so: nobody waits on it to be refused.
        await this.db.savepoint(async () => {
          if (event.depth >= LOOP_GUARD_DEPTH) await this.actions.refuse(firing, 'loop_guard');
          else await this.actions.fire(firing, { onLimit: 'record' });
        });
        return;
      } catch (error) {
        if (isConnectionError(error) || databaseLimitError(error)) throw error;
        // A rule deleted under the event (the engine's "busy"): the next statement reads the
        // rules as they now are, so the event goes once more against those.
        if (attempt === 1 && error instanceof DomainError && error.kind === 'busy') continue;
        this.logger.warn(
          { tenantId, eventId: event.id, type: event.type, err: error },
          "a raised event's rules failed; passed over",
        );
        return;
      }
    }
  }
}
