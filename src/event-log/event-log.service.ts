import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/errors';
import { toWire } from '../common/wire';
import { TenantDb } from '../database/tenant-db';
import { EventFeedQuery, EventPage, FEED } from './dto/event-feed.dto';
import { EventLogRepository } from './event-log.repository';
import { FeedSignals } from './feed-signals';

/** An event to record: `data` is a wire object (or plain JSON), mapped as a response would be. */
export interface NewEvent {
  type: string;
  instanceId?: string | null;
  customerId?: string | null;
  causedBy?: string | null;
  depth?: number;
  data: object;
}

/** Whose feed a reader sees: an instance's (its own events and the tenant's of no instance). */
export interface FeedReader {
  tenantId: string;
  instanceId: string | null;
}

@Injectable()
export class EventLogService {
  constructor(
    private readonly db: TenantDb,
    private readonly repo: EventLogRepository,
    private readonly signals: FeedSignals,
  ) {}

  /**
   * Records events in the current transaction: they exist if and only if it commits. They enter
   * the feed once the sequencer has numbered them, moments after the commit.
   */
  record(tenantId: string, ...events: NewEvent[]): Promise<string[]> {
    return this.repo.insert(
      tenantId,
      events.map((e) => ({
        type: e.type,
        instanceId: e.instanceId ?? null,
        customerId: e.customerId ?? null,
        causedBy: e.causedBy ?? null,
        depth: e.depth ?? 0,
        data: toWire(e.data),
      })),
    );
  }

  /**
   * A page of the feed after a cursor, oldest first. With `wait`, an empty page is held until
   * the feed grows or the wait ends; meanwhile the request holds no connection, so a long poll
   * costs its tenant's share of the database nothing.
   */
  async feed(reader: FeedReader, q: EventFeedQuery): Promise<EventPage> {
    const limit = q.limit ?? FEED.defaultLimit;
    const types = !q.types || q.types === '*' ? null : [...new Set(q.types.split(','))];
    const deadline = Date.now() + (q.wait ?? 0) * 1000;
    for (;;) {
      const waiter =
        Date.now() < deadline
          ? this.signals.subscribe(reader.tenantId, deadline - Date.now())
          : null;
      const page = await this.db.read(reader.tenantId, async () => {
        const purged = await this.repo.purgedThrough(reader.tenantId);
        const after = q.after ?? purged;
        if (after < purged) {
          throw new DomainError('gone', 'Events after this cursor are past retention; start over');
        }
        const events = await this.repo.feed(reader.tenantId, {
          after,
          instanceId: reader.instanceId,
          customerId: null,
          types,
          limit: limit + 1,
        });
        const hasMore = events.length > limit;
        if (hasMore) events.pop();
        return Object.assign(new EventPage(), {
          events,
          nextAfter: events.length > 0 ? events[events.length - 1].sequence : after,
          hasMore,
        });
      });
      if (page.events.length > 0 || !waiter) {
        waiter?.cancel();
        return page;
      }
      await waiter.woken;
    }
  }
}
