import { Injectable } from '@nestjs/common';
import { Principal, customerScope } from '../auth/principal';
import { DomainError, forbidden, invalidField, notFound } from '../common/errors';
import { toWire } from '../common/wire';
import { TenantDb } from '../database/tenant-db';
import { DashboardEventQuery } from './dto/dashboard-events.dto';
import { EventFeedQuery, EventPage, FEED } from './dto/event-feed.dto';
import { eventsParameter } from './event-log-sql';
import { EventLogRepository } from './event-log.repository';
import { EventSequencer } from './event-sequencer';
import { EventFilter, EventHead, HeadRead, ScanQuery, ScanRead } from './event-log.types';
import { FeedSignals } from './feed-signals';
import { LoggedEvent } from './logged-event.entity';

/** An event to record: `data` is a wire object (or plain JSON), mapped as a response would be. */
export interface NewEvent {
  type: string;
  instanceId?: string | null;
  customerId?: string | null;
  causedBy?: string | null;
  depth?: number;
  data: object;
}

/**
 * What an event was caused by, for one raised by a rule's action: the event that fired the rule
 * and the depth of the new event (one deeper). Routes and timers raise events of depth 0.
 */
export type EventCause = Pick<NewEvent, 'causedBy' | 'depth'>;

/**
 * An event as a consumer of the log reads it, with the depth the feed does not show, and of its
 * data only the values at the paths the consumer asked for (see ScanQuery.paths).
 */
export type ScannedEvent = Pick<
  LoggedEvent,
  'id' | 'type' | 'sequence' | 'instanceId' | 'customerId' | 'causedBy' | 'depth'
> & { data: Record<string, unknown> };

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
    private readonly sequencer: EventSequencer,
  ) {}

  /**
   * A person's erasure reaches the log: the events that carry one of these bindings
   * (`data.binding`) show its address as the tombstone its row now has, in the current
   * transaction. A rare request, so it reads the tenant's events without an index.
   */
  async scrubBindingAddresses(tenantId: string, bindingIds: readonly string[]): Promise<void> {
    if (bindingIds.length > 0) await this.repo.scrubBindingAddresses(tenantId, bindingIds);
  }

  /**
   * Records events in the current transaction: they exist if and only if it commits. They enter
   * the feed once the sequencer has numbered them, moments after the commit.
   */
  async record(tenantId: string, ...events: NewEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    return this.repo.insert(tenantId, this.recording(tenantId, ...events));
  }

  /**
   * For a statement of another domain that records events along with what it reads, in the
   * current transaction (`insertEventsSql`): the events' parameter. As with `record`, they enter
   * the feed once numbered after the commit.
   */
  recording(tenantId: string, ...events: NewEvent[]): string {
    this.db.afterCommit(() => this.sequencer.committed(tenantId));
    return eventsParameter(
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
   * For a consumer of the log that keeps its own cursor, in the caller's tenant transaction: the
   * tenant's events of these types after `after`, oldest first, at most `limit`. `through` is
   * how far the read covered (the cursor moves there); while it is short of `end`, read again.
   */
  scan(tenantId: string, q: ScanQuery): Promise<ScanRead & { events: ScannedEvent[] }> {
    return this.repo.scan(tenantId, q) as Promise<ScanRead & { events: ScannedEvent[] }>;
  }

  /** As `scan`, for every type and without the events' content: for consumers routing them. */
  heads(tenantId: string, after: number, limit: number): Promise<HeadRead> {
    return this.repo.heads(tenantId, after, limit);
  }

  /** The heads of the events that occurred at or after `since`, after `after`, in feed order. */
  headsSince(tenantId: string, since: Date, after: number, limit: number): Promise<EventHead[]> {
    return this.repo.headsSince(tenantId, since, after, limit);
  }

  /** These events as the feed shows them, in the caller's transaction. */
  envelopes(tenantId: string, ids: readonly string[]): Promise<LoggedEvent[]> {
    return this.repo.byIds(tenantId, ids);
  }

  /** Each tenant's last feed position, across tenants: for consumers looking for news. */
  feedEnds(): Promise<Map<string, number>> {
    return this.repo.feedEnds();
  }

  /**
   * Calls `listener` with a tenant's id each time its feed grows, on every replica (the
   * sequencer of any replica announces it); returns what stops it.
   */
  onGrowth(listener: (tenantId: string) => void): () => void {
    return this.signals.onGrowth(listener);
  }

  /**
   * A page of the feed after a cursor, oldest first. With `wait`, an empty page is held until
   * the feed grows or the wait ends; meanwhile the request holds no connection, so a long poll
   * costs its tenant's share of the database nothing.
   */
  async feed(reader: FeedReader, q: EventFeedQuery): Promise<EventPage> {
    const limit = q.limit ?? FEED.defaultLimit;
    const types = !q.types || q.types === '*' ? undefined : [...new Set(q.types.split(','))];
    const deadline = Date.now() + (q.wait ?? 0) * 1000;
    for (;;) {
      const waiter =
        Date.now() < deadline
          ? this.signals.subscribe(reader.tenantId, deadline - Date.now())
          : null;
      const page = await this.db.read(reader.tenantId, () =>
        this.page(reader.tenantId, q.after, limit, {
          instanceOrTenant: reader.instanceId ?? undefined,
          types,
        }),
      );
      if (page.events.length > 0 || !waiter) {
        waiter?.cancel();
        return page;
      }
      await waiter.woken;
    }
  }

  /**
   * The dashboard's page of the tenant's log, oldest first. A customer admin sees its own
   * customer's events only: no filter means its own, another customer's is refused.
   */
  list(p: Principal, q: DashboardEventQuery): Promise<EventPage> {
    return this.page(p.tenantId, q.after, q.limit ?? FEED.defaultLimit, {
      type: q.type,
      customerId: customerScope(p, q.customerId),
      instanceId: q.instanceId,
    });
  }

  /**
   * One event, once it has its position. A customer admin is refused another customer's event
   * and the tenant's events of no customer, as the list never shows it those.
   */
  async get(p: Principal, id: string): Promise<LoggedEvent> {
    const event = await this.repo.byId(p.tenantId, id);
    if (!event) throw notFound('Event');
    if (p.customerId !== null && event.customerId !== p.customerId)
      throw forbidden('Not allowed for this customer');
    return event;
  }

  /**
   * Events after the cursor (absent: from the oldest retained), one more than `limit` read to
   * say whether more follow. A cursor before what retention removed has lost events: 410. One
   * past the feed's end was never given out: answered with an empty page, its holder would skip
   * every event until the feed caught up with it, so it is refused (422).
   */
  private async page(
    tenantId: string,
    after: number | undefined,
    limit: number,
    filter: EventFilter,
  ): Promise<EventPage> {
    const read = await this.repo.page(tenantId, { after: after ?? 0, limit: limit + 1, filter });
    const from = after ?? read.purgedThrough;
    if (from < read.purgedThrough) {
      throw new DomainError('gone', 'Events after this cursor are past retention; start over');
    }
    if (from > read.last) {
      const msg = `after is past the end of the feed (its last sequence is ${read.last})`;
      throw invalidField('after', msg, 'value_error', [], 'query');
    }
    const events = read.events;
    const hasMore = events.length > limit || read.cut;
    if (events.length > limit) events.pop();
    return Object.assign(new EventPage(), {
      events,
      nextAfter: events.length > 0 ? events[events.length - 1].sequence : from,
      hasMore,
    });
  }
}
