import { Injectable } from '@nestjs/common';
import { EntityManager, IsNull, Not } from 'typeorm';
import { prepared } from '../database/prepared';
import { TenantDb } from '../database/tenant-db';
import { LoggedEvent } from './logged-event.entity';

/** An event to be written, its data already in wire form. */
export interface EventRow {
  type: string;
  instanceId: string | null;
  customerId: string | null;
  causedBy: string | null;
  depth: number;
  data: unknown;
}

/**
 * What narrows a page of the log: each filter present adds its condition, so each combination
 * is a statement of its own whose plan can use the index of its filter.
 */
export interface EventFilter {
  /** This instance's events and the tenant's events of no instance: an instance's feed. */
  instanceOrTenant?: string;
  /** This instance's events only. */
  instanceId?: string;
  customerId?: string;
  type?: string;
  /** Any of these types. */
  types?: string[];
}

export interface PageQuery {
  /** Events strictly after this position, and after any retention removed. */
  after: number;
  limit: number;
  filter: EventFilter;
}

/** A page of the log and, read in the same snapshot, the last position retention removed. */
export interface PageRead {
  purgedThrough: number;
  events: LoggedEvent[];
}

/** A read of the log by a consumer that keeps its own cursor: see `scan`. */
export interface ScanQuery {
  after: number;
  types: readonly string[];
  limit: number;
}

export interface ScanRead {
  events: LoggedEvent[];
  /** How far the read covered: every event of the types after the cursor up to it is read. */
  through: number;
  /** The feed's last position, in the same snapshot. */
  end: number;
}

/** Positions given in one sequencing transaction at most: a backlog is taken in turns. */
const SEQUENCE_BATCH = 5000;

/** Positions one scan walks at most: a rare type does not make it read the whole log at once. */
const SCAN_SPAN = 5000;

const columns = (at: string) =>
  `${at}id, ${at}type, ${at}sequence, ${at}occurred_at, ${at}tenant_id, ${at}instance_id,
   ${at}customer_id, ${at}caused_by, ${at}depth, ${at}data`;

/** Each filter's condition, given its parameter: the only text a filter brings into SQL. */
const CONDITIONS: { readonly [K in keyof EventFilter]-?: (param: string) => string } = {
  instanceOrTenant: (p) => `(instance_id = ${p} OR instance_id IS NULL)`,
  instanceId: (p) => `instance_id = ${p}`,
  customerId: (p) => `customer_id = ${p}`,
  type: (p) => `type = ${p}`,
  types: (p) => `type = ANY(${p}::text[])`,
};
const FILTERS = Object.entries(CONDITIONS) as [keyof EventFilter, (param: string) => string][];

/**
 * One statement, so one snapshot, reads the page and purged_through: retention deletes a prefix
 * of the log and raises purged_through in one transaction, so a cursor at or past the
 * purged_through read here finds every retained event after it, and one before it is answered
 * 410 rather than silently missing what was removed between two statements.
 */
function pageStatement(tenantId: string, q: PageQuery): { text: string; params: unknown[] } {
  const params: unknown[] = [tenantId, q.after, q.limit];
  let where = '';
  for (const [key, condition] of FILTERS) {
    const value = q.filter[key];
    if (value !== undefined) where += ` AND ${condition(`$${params.push(value)}`)}`;
  }
  const text = prepared(
    `SELECT r.purged_through, ${columns('e.')}
       FROM (SELECT coalesce(max(purged_through), 0) AS purged_through
               FROM event_sequences WHERE tenant_id = $1) r
       LEFT JOIN LATERAL (
         SELECT ${columns('')} FROM events
          WHERE tenant_id = $1 AND sequence > greatest($2::bigint, r.purged_through)${where}
          ORDER BY sequence
          LIMIT $3) e ON true
      ORDER BY e.sequence`,
  );
  return { text, params };
}

/**
 * The oldest retained events, up to the first one younger than the retention or the batch's
 * end, whichever comes first: retention removes a prefix of the feed, so everything at or
 * before purged_through is gone and everything after it is still there. An event numbered late
 * (its transaction ran long) may outlive the retention by as long as its neighbours take to age.
 * Events without a position are never reached.
 */
const PURGE = `
  WITH head AS (
    SELECT id, sequence, occurred_at < now() - make_interval(days => $2) AS old FROM events
     WHERE tenant_id = $1
       AND sequence > (SELECT coalesce(max(purged_through), 0)
                         FROM event_sequences WHERE tenant_id = $1)
     ORDER BY sequence
     LIMIT $3
  ), doomed AS (
    SELECT id FROM head h
     WHERE NOT EXISTS (SELECT 1 FROM head k WHERE NOT k.old AND k.sequence <= h.sequence)
  ), gone AS (
    DELETE FROM events e USING doomed d WHERE e.tenant_id = $1 AND e.id = d.id
    RETURNING e.sequence
  )
  SELECT count(*)::int AS n, max(sequence) AS through FROM gone`;

/**
 * One statement, so one snapshot, reads the events and the feed's end: the sequencer gives
 * positions and moves `last` in one transaction, so every event at or before the end read here
 * is seen by this read.
 */
const SCAN = prepared(
  `SELECT s.last, ${columns('e.')}
     FROM (SELECT coalesce(max(last), 0) AS last FROM event_sequences WHERE tenant_id = $1) s
     LEFT JOIN LATERAL (
       SELECT ${columns('')} FROM events
        WHERE tenant_id = $1 AND sequence > $2::bigint
          AND sequence <= least(s.last, $2::bigint + $5::bigint) AND type = ANY($3::text[])
        ORDER BY sequence
        LIMIT $4) e ON true
    ORDER BY e.sequence`,
);

const INSERT = prepared(
  `INSERT INTO events (tenant_id, type, instance_id, customer_id, caused_by, depth, data)
   SELECT $1, x->>'type', (x->>'instance_id')::uuid, (x->>'customer_id')::uuid,
          (x->>'caused_by')::uuid, (x->>'depth')::smallint, x->'data'
     FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(x, n)
    ORDER BY n
   RETURNING id`,
);

interface EventRecord {
  id: string;
  type: string;
  sequence: string;
  occurred_at: Date;
  tenant_id: string;
  instance_id: string | null;
  customer_id: string | null;
  caused_by: string | null;
  depth: number;
  data: Record<string, unknown>;
}

const hydrate = (r: EventRecord): LoggedEvent =>
  Object.assign(new LoggedEvent(), {
    id: r.id,
    type: r.type,
    sequence: Number(r.sequence),
    occurredAt: r.occurred_at,
    tenantId: r.tenant_id,
    instanceId: r.instance_id,
    customerId: r.customer_id,
    causedBy: r.caused_by,
    depth: r.depth,
    data: r.data,
  });

/** The `events` and `event_sequences` tables. */
@Injectable()
export class EventLogRepository {
  constructor(private readonly db: TenantDb) {}

  private get m(): EntityManager {
    return this.db.manager;
  }

  /** Writes events in the current transaction, in the order given; returns their ids. */
  async insert(tenantId: string, events: readonly EventRow[]): Promise<string[]> {
    if (events.length === 0) return [];
    const rows = await this.m.query<{ id: string }[]>(INSERT, [
      tenantId,
      JSON.stringify(
        events.map((e) => ({
          type: e.type,
          instance_id: e.instanceId,
          customer_id: e.customerId,
          caused_by: e.causedBy,
          depth: e.depth,
          data: e.data,
        })),
      ),
    ]);
    return rows.map((r) => r.id);
  }

  /**
   * Gives the tenant's committed events without a position the next ones, in insertion order,
   * and returns how many. The counter row's lock is taken by a statement of its own: the
   * statements after it see every event the previous holder sequenced, whereas a statement that
   * waited for the lock inside itself would still see them unsequenced and number them twice.
   */
  async sequence(tenantId: string): Promise<number> {
    await this.m.query(
      `INSERT INTO event_sequences (tenant_id) VALUES ($1) ON CONFLICT (tenant_id) DO NOTHING`,
      [tenantId],
    );
    const [counter] = await this.m.query<{ last: string }[]>(
      `SELECT last FROM event_sequences WHERE tenant_id = $1 FOR UPDATE`,
      [tenantId],
    );
    const last = Number(counter.last);
    // For an UPDATE, TypeORM answers [rows, affected].
    const [, numbered] = await this.m.query<[unknown[], number]>(
      `WITH next AS (
         SELECT id, row_number() OVER (ORDER BY position) AS n FROM events
          WHERE tenant_id = $1 AND sequence IS NULL
          ORDER BY position LIMIT ${SEQUENCE_BATCH})
       UPDATE events e SET sequence = $2 + next.n
         FROM next WHERE e.tenant_id = $1 AND e.id = next.id
       RETURNING e.id`,
      [tenantId, last],
    );
    if (numbered === 0) return 0;
    await this.m.query(`UPDATE event_sequences SET last = $2 WHERE tenant_id = $1`, [
      tenantId,
      last + numbered,
    ]);
    // Delivered when this commits: every replica's long polls of this tenant look again.
    await this.m.query(`SELECT pg_notify('hydracore_feed', $1)`, [tenantId]);
    return numbered;
  }

  /** Events after a position, oldest first, and how far retention has removed them. */
  async page(tenantId: string, q: PageQuery): Promise<PageRead> {
    const { text, params } = pageStatement(tenantId, q);
    const rows = await this.m.query<(EventRecord & { purged_through: string })[]>(text, params);
    return {
      purgedThrough: Number(rows[0].purged_through),
      events: rows.filter((r) => r.id !== null).map(hydrate),
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
   * that role sees the tenant and the missing position of such events and nothing else.
   */
  async tenantsWaiting(): Promise<string[]> {
    const rows = await this.db.asWorker<{ tenant_id: string }>(
      'SELECT DISTINCT tenant_id FROM events WHERE sequence IS NULL',
    );
    return rows.map((r) => r.tenant_id);
  }

  /** An event with its position; one not yet sequenced is not shown anywhere yet. */
  byId(tenantId: string, id: string): Promise<LoggedEvent | null> {
    return this.m.findOne(LoggedEvent, { where: { tenantId, id, sequence: Not(IsNull()) } });
  }
}
