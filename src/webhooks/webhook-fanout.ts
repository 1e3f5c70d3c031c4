import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TenantDb } from '../database/tenant-db';
import { EventLogService } from '../event-log/event-log.service';
import { CURSOR_BUSY, FeedFollower, FollowedBatch } from '../event-log/feed-follower';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookDispatcher } from './webhook-dispatcher';

/** Events one transaction routes at most: a backlog is taken in turns. */
const FANOUT_BATCH = 500;
/** The longest a tenant's new events wait for their deliveries when every wake was lost. */
const SAFETY_POLL_MS = 2_000;

/**
 * Turns each event into one delivery per matching endpoint, exactly once, moments after the
 * event's commit: it follows the feed with a per-tenant cursor (FeedFollower) and queues the
 * deliveries in the transaction that advances it. Writes pay nothing for webhooks, and an event
 * is routed in feed order whichever replica recorded it. A tenant without an enabled endpoint
 * only has its cursor moved on.
 */
@Injectable()
export class WebhookFanout extends FeedFollower {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    db: TenantDb,
    log: EventLogService,
    private readonly repo: WebhookDeliveriesRepository,
    private readonly dispatcher: WebhookDispatcher,
  ) {
    // Tests turn the look off with the sweepers; the wakes still come.
    super(db, Math.min(config.sweepIntervalMs, SAFETY_POLL_MS), log);
  }

  protected cursors(): Promise<Map<string, number>> {
    return this.repo.cursors();
  }

  protected async batch(tenantId: string): Promise<FollowedBatch> {
    const after = await this.repo.claimCursor(tenantId);
    if (after === null) return CURSOR_BUSY;
    const read = await this.log.heads(tenantId, after, FANOUT_BATCH);
    const routing = await this.repo.anyEnabled(tenantId);
    const queued = routing ? await this.repo.fanOut(tenantId, read.heads) : 0;
    const through = routing ? read.through : read.end;
    if (through > after) await this.repo.advance(tenantId, through);
    if (queued > 0) this.db.afterCommit(() => this.dispatcher.kick(tenantId));
    return { handled: read.heads.length, more: through < read.end };
  }
}
