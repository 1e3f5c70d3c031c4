import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { prepared } from '../database/prepared';
import { TenantDb } from '../database/tenant-db';
import { LoggedEvent } from './logged-event.entity';
import {
  EventRecord,
  INSERT,
  LOCK_COUNTER,
  NUMBER,
  PURGE,
  SCAN,
  SCAN_SPAN,
  TEXT_COLUMNS,
  hydrate,
  pageStatement,
} from './event-log-sql';
import { EventHead, HeadRead, PageQuery, PageRead, ScanQuery, ScanRead } from './event-log.types';

/** The `events` and `event_sequences` tables. */
@Injectable()
export class EventLogRepository {
  constructor(private readonly db: TenantDb) {}

  private get m(): EntityManager {
    return this.db.manager;
  }

  /** Replaces `data.binding.channel_address` by `erased:<binding id>` for these bindings. */
  async scrubBindingAddresses(tenantId: string, bindingIds: readonly string[]): Promise<void> {
    await this.m.query(
      `UPDATE events
          SET data = jsonb_set(data, '{binding,channel_address}',
                               to_jsonb('erased:' || (data->'binding'->>'id')))
        WHERE tenant_id = $1 AND data->'binding'->>'id' = ANY($2::text[])`,
      [tenantId, bindingIds],
    );
  }

  /**
   * Writes events in the current transaction, in the order given; returns their ids. `events`
   * is eventsParameter's text.
   */
  async insert(tenantId: string, events: string): Promise<string[]> {
    const rows = await this.m.query<{ id: string }[]>(INSERT, [tenantId, events]);
    return rows.map((r) => r.id);
  }

  /**
   * Gives the tenant's committed events without a position the next ones, in insertion order,
   * and returns how many. The counter row's lock is taken by a statement of its own: the
   * statements after it see every event the previous holder sequenced, whereas a statement that
   * waited for the lock inside itself would still see them unsequenced and number them twice.
   */
  async sequence(tenantId: string): Promise<number> {
    let last = await this.lockCounter(tenantId);
    if (last === null) {
      // The tenant's first events: its counter is made once, then locked as always.
      await this.m.query(
        `INSERT INTO event_sequences (tenant_id) VALUES ($1) ON CONFLICT (tenant_id) DO NOTHING`,
        [tenantId],
      );
      last = (await this.lockCounter(tenantId)) ?? 0;
    }
    const [numbered] = await this.m.query<{ n: number }[]>(NUMBER, [tenantId, last]);
    return numbered.n;
  }

  private async lockCounter(tenantId: string): Promise<number | null> {
    const [counter] = await this.m.query<{ last: string }[]>(LOCK_COUNTER, [tenantId]);
    return counter ? Number(counter.last) : null;
  }

  /** Events after a position, oldest first, and how far retention has removed them. */
  async page(tenantId: string, q: PageQuery): Promise<PageRead> {
    const { text, params } = pageStatement(tenantId, q);
    const rows = await this.m.query<
      (EventRecord & { purged_through: string; last: string; read: string })[]
    >(text, params);
    const events = rows.filter((r) => r.id !== null).map(hydrate);
    return {
      purgedThrough: Number(rows[0].purged_through),
      last: Number(rows[0].last),
      events,
      cut: events.length > 0 && events.length < Number(rows[0].read),
    };
  }

  /**
   * Removes up to `limit` of the oldest events older than `days` (see PURGE) and raises
   * purged_through to the last position removed, in the caller's transaction: a reader sees
   * both or neither. Returns how many were removed.
   */
  async purge(tenantId: string, days: number, limit: number): Promise<number> {
    const [gone] = await this.m.query<{ n: number; through: string | null }[]>(PURGE, [
      tenantId,
      days,
      limit,
    ]);
    if (gone.n === 0) return 0;
    await this.m.query(
      `UPDATE event_sequences SET purged_through = greatest(purged_through, $2)
        WHERE tenant_id = $1`,
      [tenantId, gone.through],
    );
    return gone.n;
  }

  /**
   * Events of some types after a position, oldest first (see SCAN), and how far that covered:
   * to the last one read when the page is full, else to the feed's end or the span's.
   */
  async scan(tenantId: string, q: ScanQuery): Promise<ScanRead> {
    const rows = await this.m.query<(EventRecord & { last: string })[]>(SCAN, [
      tenantId,
      q.after,
      q.types,
      q.limit,
      SCAN_SPAN,
      q.paths,
    ]);
    const end = Number(rows[0].last);
    const events = rows.filter((r) => r.id !== null).map(hydrate);
    const through =
      events.length === q.limit
        ? events[events.length - 1].sequence
        : Math.max(q.after, Math.min(end, q.after + SCAN_SPAN));
    return { events, through, end };
  }

  /**
   * Each tenant's last feed position, read as hydracore_worker: outside any tenant, that role
   * sees the tenant and the last position of each counter and nothing else.
   */
  async feedEnds(): Promise<Map<string, number>> {
    const rows = await this.db.asWorker<{ tenant_id: string; last: string }>(
      'SELECT tenant_id, last FROM event_sequences',
    );
    return new Map(rows.map((r) => [r.tenant_id, Number(r.last)]));
  }

  /**
   * Tenants with events waiting for a position, read as hydracore_worker: outside any tenant,
   * that role sees the tenant and the missing position of such events and nothing else. Events
   * keep no key to their tenant: those of a tenant removed by hand are left alone, not retried
   * at every sweep (its counter could not be made).
   */
  async tenantsWaiting(): Promise<string[]> {
    const rows = await this.db.asWorker<{ tenant_id: string }>(
      `SELECT DISTINCT e.tenant_id FROM events e
        WHERE e.sequence IS NULL AND EXISTS (SELECT 1 FROM tenants t WHERE t.id = e.tenant_id)`,
    );
    return rows.map((r) => r.tenant_id);
  }

  /** An event with its position; one not yet sequenced is not shown anywhere yet. */
  async byId(tenantId: string, id: string): Promise<LoggedEvent | null> {
    const [event] = await this.byIds(tenantId, [id]);
    return event ?? null;
  }

  /**
   * Where the events after a position go, without their content, oldest first, and how far
   * that covered (as `scan`, for every type): a consumer that routes events reads them light.
   */
  async heads(tenantId: string, after: number, limit: number): Promise<HeadRead> {
    const rows = await this.m.query<(HeadRecord & { last: string })[]>(HEADS, [
      tenantId,
      after,
      limit,
      SCAN_SPAN,
    ]);
    const end = Number(rows[0].last);
    const heads = rows.filter((r) => r.id !== null).map(head);
    const through =
      heads.length === limit
        ? heads[heads.length - 1].sequence
        : Math.max(after, Math.min(end, after + SCAN_SPAN));
    return { heads, through, end };
  }

  /**
   * The heads of the events that occurred at or after `since` and come after the position
   * `after`, in feed order, at most `limit`. A caller pages by position: a page's last
   * occurred_at would skip an event that took its time before a later-numbered one.
   */
  async headsSince(
    tenantId: string,
    since: Date,
    after: number,
    limit: number,
  ): Promise<EventHead[]> {
    const rows = await this.m.query<HeadRecord[]>(
      `SELECT id, type, instance_id, sequence, occurred_at FROM events
        WHERE tenant_id = $1 AND sequence > $3 AND occurred_at >= $2
        ORDER BY sequence LIMIT $4`,
      [tenantId, since, after, limit],
    );
    return rows.map(head);
  }

  /** These events as the feed shows them; those not yet numbered or gone are left out. */
  async byIds(tenantId: string, ids: readonly string[]): Promise<LoggedEvent[]> {
    if (ids.length === 0) return [];
    const rows = await this.m.query<EventRecord[]>(
      `SELECT ${TEXT_COLUMNS('')} FROM events
        WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND sequence IS NOT NULL`,
      [tenantId, ids],
    );
    return rows.map(hydrate);
  }
}

const HEADS = prepared(
  `SELECT s.last, e.id, e.type, e.instance_id, e.sequence, e.occurred_at
     FROM (SELECT coalesce(max(last), 0) AS last FROM event_sequences WHERE tenant_id = $1) s
     LEFT JOIN LATERAL (
       SELECT id, type, instance_id, sequence, occurred_at FROM events
        WHERE tenant_id = $1 AND sequence > $2::bigint
          AND sequence <= least(s.last, $2::bigint + $4::bigint)
        ORDER BY sequence
        LIMIT $3) e ON true
    ORDER BY e.sequence`,
);

interface HeadRecord {
  id: string;
  type: string;
  instance_id: string | null;
  sequence: string;
  occurred_at: Date;
}

const head = (r: HeadRecord): EventHead => ({
  id: r.id,
  type: r.type,
  instanceId: r.instance_id,
  sequence: Number(r.sequence),
  occurredAt: r.occurred_at,
});
