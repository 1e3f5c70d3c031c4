import { RawJson } from '../common/raw-json';
import { prepared } from '../database/prepared';
import { LoggedEvent } from './logged-event.entity';
import { EventFilter, EventRow, PAGE_BUDGET_BYTES, PageQuery } from './event-log.types';

/** The SQL of the event log's repository, and how its rows become events. */

/** Positions given in one sequencing transaction at most: a backlog is taken in turns. */
export const SEQUENCE_BATCH = 5000;

/** The tenant's counter, locked by a statement of its own: see EventLogRepository.sequence. */
export const LOCK_COUNTER = prepared(
  `SELECT last FROM event_sequences WHERE tenant_id = $1 FOR UPDATE`,
);

/**
 * Numbers the tenant's committed events without a position after `$2` (the locked counter's
 * last), in insertion order, moves the counter past them and, when there were any, wakes every
 * replica's long polls of the tenant when this commits: one round trip for the whole of a pass
 * after its lock, since a pass runs for every burst of commits.
 */
export const NUMBER = prepared(
  `WITH next AS (
     SELECT id, row_number() OVER (ORDER BY position) AS n FROM events
      WHERE tenant_id = $1::uuid AND sequence IS NULL
      ORDER BY position LIMIT ${SEQUENCE_BATCH}
   ), numbered AS (
     UPDATE events e SET sequence = $2::bigint + next.n
       FROM next WHERE e.tenant_id = $1::uuid AND e.id = next.id
     RETURNING e.id
   ), counted AS (
     SELECT count(*)::int AS n FROM numbered
   ), advanced AS (
     UPDATE event_sequences s SET last = $2::bigint + counted.n
       FROM counted WHERE s.tenant_id = $1::uuid AND counted.n > 0
     RETURNING s.last
   )
   SELECT counted.n, (SELECT count(last) FROM advanced) AS advanced,
          CASE WHEN counted.n > 0 THEN pg_notify('hydracore_feed', $1::uuid::text) END AS woken
     FROM counted`,
);

/** Positions one scan walks at most: a rare type does not make it read the whole log at once. */
export const SCAN_SPAN = 5000;

const heads = (at: string) =>
  `${at}id, ${at}type, ${at}sequence, ${at}occurred_at, ${at}tenant_id, ${at}instance_id,
   ${at}customer_id, ${at}caused_by, ${at}depth`;
const columns = (at: string) => `${heads(at)}, ${at}data`;

/**
 * The columns of an event as a client reads it: its data as text, passed on as it is (RawJson).
 * An event may hold a whole workflow, and parsed, a megabyte of empty objects takes tens of
 * megabytes of heap; a page of them, more than the process has.
 */
export const TEXT_COLUMNS = (at: string) => `${heads(at)}, ${at}data::text AS data`;

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
 * The size of an event's data as a page sends it, kept by a trigger on every write. Rows
 * written before sizes were kept have none, and only those are turned into text to measure them.
 */
const BYTES = `coalesce(data_bytes, octet_length(data::text))`;

/**
 * One statement, so one snapshot, reads the page and purged_through: retention deletes a prefix
 * of the log and raises purged_through in one transaction, so a cursor at or past the
 * purged_through read here finds every retained event after it, and one before it is answered
 * 410 rather than silently missing what was removed between two statements.
 */
export function pageStatement(tenantId: string, q: PageQuery): { text: string; params: unknown[] } {
  const params: unknown[] = [tenantId, q.after, q.limit];
  let where = '';
  for (const [key, condition] of FILTERS) {
    const value = q.filter[key];
    if (value !== undefined) where += ` AND ${condition(`$${params.push(value)}`)}`;
  }
  const text = prepared(
    `SELECT r.purged_through, r.last, ${TEXT_COLUMNS('e.')}, e.read
       FROM (SELECT coalesce(max(purged_through), 0) AS purged_through,
                    coalesce(max(last), 0) AS last
               FROM event_sequences WHERE tenant_id = $1) r
       LEFT JOIN LATERAL (
         SELECT ${columns('p.')}, p.before_bytes, count(*) OVER () AS read FROM (
           SELECT ${columns('')}, sum(bytes) OVER (ORDER BY sequence) - bytes AS before_bytes
             FROM (SELECT ${columns('')}, ${BYTES} AS bytes FROM events
                    WHERE tenant_id = $1
                      AND sequence > greatest($2::bigint, r.purged_through)${where}
                    ORDER BY sequence
                    LIMIT $3) l) p) e
         ON e.before_bytes < ${PAGE_BUDGET_BYTES}
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
export const PURGE = `
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
 * Only the values at these dotted paths of `data` ($6), keyed by path: a scan reads a few
 * scalars of each event, never a whole workflow.
 */
const DATA_AT_PATHS = `(
  SELECT coalesce(jsonb_object_agg(p, v), '{}'::jsonb)
    FROM unnest($6::text[]) p, LATERAL (SELECT data #> string_to_array(p, '.') AS v) x
   WHERE v IS NOT NULL AND v <> 'null'::jsonb) AS data`;

/**
 * One statement, so one snapshot, reads the events and the feed's end: the sequencer gives
 * positions and moves `last` in one transaction, so every event at or before the end read here
 * is seen by this read.
 */
export const SCAN = prepared(
  `SELECT s.last, ${columns('e.')}
     FROM (SELECT coalesce(max(last), 0) AS last FROM event_sequences WHERE tenant_id = $1) s
     LEFT JOIN LATERAL (
       SELECT ${heads('')}, ${DATA_AT_PATHS}
         FROM events
        WHERE tenant_id = $1 AND sequence > $2::bigint
          AND sequence <= least(s.last, $2::bigint + $5::bigint) AND type = ANY($3::text[])
        ORDER BY sequence
        LIMIT $4) e ON true
    ORDER BY e.sequence`,
);

/**
 * Inserts the events of `events` (a placeholder for `eventsParameter`'s text) in their order and
 * returns their ids; none when `condition` is false. For a statement of another domain that
 * records events along with what it reads (EventLogService.recording).
 */
export const insertEventsSql = (tenant: string, events: string, condition = 'true'): string =>
  `INSERT INTO events (tenant_id, type, instance_id, customer_id, caused_by, depth, data)
   SELECT ${tenant}, x->>'type', (x->>'instance_id')::uuid, (x->>'customer_id')::uuid,
          (x->>'caused_by')::uuid, (x->>'depth')::smallint, x->'data'
     FROM jsonb_array_elements(${events}::jsonb) WITH ORDINALITY AS e(x, n)
    WHERE ${condition}
    ORDER BY n
   RETURNING id`;

export const INSERT = prepared(insertEventsSql('$1', '$2'));

/** The events as insertEventsSql reads them: one JSON array. */
export const eventsParameter = (events: readonly EventRow[]): string =>
  JSON.stringify(
    events.map((e) => ({
      type: e.type,
      instance_id: e.instanceId,
      customer_id: e.customerId,
      caused_by: e.causedBy,
      depth: e.depth,
      data: e.data,
    })),
  );

export interface EventRecord {
  id: string;
  type: string;
  sequence: string;
  occurred_at: Date;
  tenant_id: string;
  instance_id: string | null;
  customer_id: string | null;
  caused_by: string | null;
  depth: number;
  /** Text where the statement read it as text (TEXT_COLUMNS). */
  data: Record<string, unknown> | string;
}

export const hydrate = (r: EventRecord): LoggedEvent =>
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
    data: typeof r.data === 'string' ? new RawJson(r.data) : r.data,
  });
