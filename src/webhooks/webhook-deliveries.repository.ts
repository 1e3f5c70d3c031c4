import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { hydrate } from '../database/rows';
import { TenantDb } from '../database/tenant-db';
import { takeTurn } from '../database/turns';
import type { EventHead } from '../event-log/event-log.types';
import { DeliveriesQuery, DELIVERIES_PAGE } from './dto/webhook-deliveries.dto';
import { WebhookDelivery } from './webhook-delivery.entity';

/**
 * Takes the tenant's fan-out cursor for the current transaction: created at 0 when the tenant
 * has none, else locked unless another transaction holds it (then no row: SKIP LOCKED). The
 * rule evaluator's cursor is claimed the same way, where the statement is explained.
 */
const CLAIM_CURSOR = `
  WITH created AS (
    INSERT INTO webhook_fanout_cursors (tenant_id) VALUES ($1)
    ON CONFLICT (tenant_id) DO NOTHING
    RETURNING fanned_out_through
  ), locked AS (
    SELECT fanned_out_through FROM webhook_fanout_cursors WHERE tenant_id = $1
       FOR UPDATE SKIP LOCKED
  )
  SELECT fanned_out_through FROM created UNION ALL SELECT fanned_out_through FROM locked`;

/**
 * One delivery per event and enabled endpoint whose types and instance match: an endpoint of an
 * instance takes that instance's events and the tenant's of no instance, as the instance's feed
 * does. An endpoint only takes events that occurred after it was made.
 */
const FAN_OUT = `
  INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, event_type, next_attempt_at)
  SELECT $1, w.id, e.id, e.type, now()
    FROM unnest($2::uuid[], $3::text[], $4::uuid[], $5::timestamptz[])
           AS e(id, type, instance_id, occurred_at)
    JOIN webhook_endpoints w
      ON w.tenant_id = $1 AND w.status = 'enabled' AND w.created_at <= e.occurred_at
     AND ('*' = ANY (w.event_types) OR e.type = ANY (w.event_types))
     AND (w.instance_id IS NULL OR e.instance_id IS NULL OR w.instance_id = e.instance_id)
  ON CONFLICT (tenant_id, endpoint_id, event_id) DO NOTHING
  RETURNING 1`;

/**
 * Claims the due deliveries of the tenant's enabled endpoints for one attempt each: at most
 * `$2` in flight per endpoint (those already leased count), at most `$3` in all. The endpoint
 * rows are locked (SKIP LOCKED) for the claim, so two claims rarely count an endpoint's flight
 * at once; the lease, checked again as each row is updated, keeps every other claim off a
 * delivery until it passes. NO KEY UPDATE, not UPDATE: inserting a delivery checks its foreign
 * key with a KEY SHARE lock on the endpoint, which UPDATE would block, so a replay that had
 * already requeued a delivery this claim wants would wait on the claim that waits on it.
 *
 * Its cost must not grow with the tenant's backlog, which a replay can make hundreds of
 * thousands of rows: the count reads only leased rows (`webhook_deliveries_leased`), and the
 * pick reads the rows it takes in index order (`webhook_deliveries_claimable`, which holds
 * `created_at` too, so a replay's rows, which share one timestamp, need no sort).
 */
export const CLAIM = `
  WITH endpoints AS (
    SELECT id FROM webhook_endpoints
     WHERE tenant_id = $1 AND status = 'enabled'
     ORDER BY id
       FOR NO KEY UPDATE SKIP LOCKED
  ), picked AS (
    SELECT d.id, d.next_attempt_at
      FROM endpoints w
     CROSS JOIN LATERAL (
       SELECT d.id, d.next_attempt_at FROM webhook_deliveries d
        WHERE d.tenant_id = $1 AND d.endpoint_id = w.id AND d.status = 'pending'
          AND d.next_attempt_at <= now() AND (d.leased_until IS NULL OR d.leased_until <= now())
        ORDER BY d.next_attempt_at, d.created_at
        LIMIT greatest(0, $2 - (
          SELECT count(*) FROM webhook_deliveries f
           WHERE f.tenant_id = $1 AND f.endpoint_id = w.id AND f.status = 'pending'
             AND f.leased_until > now()))) d
     ORDER BY d.next_attempt_at
     LIMIT $3
  )
  UPDATE webhook_deliveries d
     SET attempts = d.attempts + 1, last_attempt_at = now(), updated_at = now(),
         -- Milliseconds, as JavaScript holds it: the attempt names its lease when it records.
         leased_until = date_trunc('milliseconds',
                                   now() + make_interval(secs => $4::double precision / 1000))
   -- By key, not joined to picked: on a join the planner may estimate more picked rows than
   -- there are and hash-join them with a scan of the whole backlog.
   WHERE d.tenant_id = $1 AND d.id = ANY (ARRAY(SELECT id FROM picked))
     -- Again here: the statement's snapshot may predate a claim that committed while it waited
     -- for the endpoint rows, and an UPDATE re-checks only its own conditions on the row as
     -- that claim left it.
     AND d.status = 'pending' AND (d.leased_until IS NULL OR d.leased_until <= now())
  RETURNING d.id, d.endpoint_id, d.event_id, d.attempts, d.leased_until`;

/**
 * Tenants with deliveries due. DISTINCT over the due rows would read every one of them, the
 * whole backlog; this hops from tenant to tenant with one index probe each, then probes each
 * tenant for its earliest due row that is not under way (`webhook_deliveries_due_tenants`).
 * Its cost follows the number of tenants with pending deliveries and the attempts under way.
 */
export const TENANTS_DUE = `
  WITH RECURSIVE pending AS (
    (SELECT tenant_id FROM webhook_deliveries WHERE status = 'pending'
      ORDER BY tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT d.tenant_id FROM webhook_deliveries d
             WHERE d.status = 'pending' AND d.tenant_id > p.tenant_id
             ORDER BY d.tenant_id LIMIT 1)
      FROM pending p WHERE p.tenant_id IS NOT NULL
  )
  SELECT p.tenant_id FROM pending p
   WHERE p.tenant_id IS NOT NULL AND EXISTS (
     SELECT 1 FROM webhook_deliveries d
      WHERE d.tenant_id = p.tenant_id AND d.status = 'pending' AND d.next_attempt_at <= now()
        AND (d.leased_until IS NULL OR d.leased_until <= now()))`;

/** Class of the advisory lock that makes a tenant's replays take turns ('WHRP'). */
const REPLAY_LOCK = 0x57485250;

/** A claimed attempt: the lease it holds is what lets it record its outcome. */
export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  attempts: number;
  leasedUntil: Date;
}

/** How an attempt ended, as the console shows it. */
export interface AttemptOutcome {
  succeeded: boolean;
  responseStatus: number | null;
  error: string | null;
  /** When to try again; null: no more attempts (failed), or none needed (succeeded). */
  retryInMs: number | null;
}

/** The `webhook_deliveries` and `webhook_fanout_cursors` tables. */
@Injectable()
export class WebhookDeliveriesRepository {
  constructor(private readonly db: TenantDb) {}

  private get m(): EntityManager {
    return this.db.manager;
  }

  /** See CLAIM_CURSOR: the position fanned out through, or null when another pass has it. */
  async claimCursor(tenantId: string): Promise<number | null> {
    const rows = await this.m.query<{ fanned_out_through: string }[]>(CLAIM_CURSOR, [tenantId]);
    return rows.length === 0 ? null : Number(rows[0].fanned_out_through);
  }

  async advance(tenantId: string, through: number): Promise<void> {
    await this.m.query(
      `UPDATE webhook_fanout_cursors SET fanned_out_through = $2 WHERE tenant_id = $1`,
      [tenantId, through],
    );
  }

  /** Every tenant's cursor, read as hydracore_worker (that role sees nothing else of them). */
  async cursors(): Promise<Map<string, number>> {
    const rows = await this.db.asWorker<{ tenant_id: string; fanned_out_through: string }>(
      'SELECT tenant_id, fanned_out_through FROM webhook_fanout_cursors',
    );
    return new Map(rows.map((r) => [r.tenant_id, Number(r.fanned_out_through)]));
  }

  /** Whether the tenant has an endpoint to deliver to: without one the fan-out only moves on. */
  async anyEnabled(tenantId: string): Promise<boolean> {
    const rows = await this.m.query<unknown[]>(
      `SELECT 1 FROM webhook_endpoints WHERE tenant_id = $1 AND status = 'enabled' LIMIT 1`,
      [tenantId],
    );
    return rows.length > 0;
  }

  /** See FAN_OUT; says how many deliveries it queued. */
  async fanOut(tenantId: string, events: readonly EventHead[]): Promise<number> {
    if (events.length === 0) return 0;
    // An INSERT answers its RETURNING rows (only UPDATE and DELETE answer [rows, count]).
    const queued = await this.m.query<unknown[]>(FAN_OUT, [
      tenantId,
      events.map((e) => e.id),
      events.map((e) => e.type),
      events.map((e) => e.instanceId),
      events.map((e) => e.occurredAt),
    ]);
    return queued.length;
  }

  /**
   * The tenant's pending deliveries, counted up to `cap`, once it is this transaction's turn to
   * replay: two replays of a tenant cannot both see room below the cap. The count is a
   * statement of its own, after the lock, so its snapshot holds what the previous replay queued.
   */
  async pendingForReplay(tenantId: string, cap: number): Promise<number> {
    await takeTurn(this.m, REPLAY_LOCK, tenantId);
    const [row] = await this.m.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM (
         SELECT 1 FROM webhook_deliveries WHERE tenant_id = $1 AND status = 'pending' LIMIT $2) p`,
      [tenantId, cap],
    );
    return row.n;
  }

  /** Queues these events for one endpoint again: a delivery done already is due once more. */
  async requeue(
    tenantId: string,
    endpointId: string,
    events: readonly EventHead[],
  ): Promise<number> {
    if (events.length === 0) return 0;
    const queued = await this.m.query<unknown[]>(
      `INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, event_type, next_attempt_at)
       SELECT $1, $2, e.id, e.type, now() FROM unnest($3::uuid[], $4::text[]) AS e(id, type)
       ON CONFLICT (tenant_id, endpoint_id, event_id) DO UPDATE
          SET status = 'pending', attempts = 0, next_attempt_at = now(), updated_at = now()
       RETURNING 1`,
      [tenantId, endpointId, events.map((e) => e.id), events.map((e) => e.type)],
    );
    return queued.length;
  }

  /** See CLAIM. */
  async claim(
    tenantId: string,
    perEndpoint: number,
    limit: number,
    leaseMs: number,
  ): Promise<ClaimedDelivery[]> {
    const [rows] = await this.m.query<
      [
        {
          id: string;
          endpoint_id: string;
          event_id: string;
          attempts: number;
          leased_until: Date;
        }[],
        number,
      ]
    >(CLAIM, [tenantId, perEndpoint, limit, leaseMs]);
    return rows.map((r) => ({
      id: r.id,
      endpointId: r.endpoint_id,
      eventId: r.event_id,
      attempts: r.attempts,
      leasedUntil: r.leased_until,
    }));
  }

  /**
   * Records an attempt's outcome, if its lease is still the delivery's: an attempt that outlived
   * its lease (a stalled process) must not overwrite what a later attempt recorded. Says
   * whether it was recorded.
   */
  async finish(
    tenantId: string,
    claim: ClaimedDelivery,
    outcome: AttemptOutcome,
  ): Promise<boolean> {
    const [, recorded] = await this.m.query<[unknown[], number]>(
      `UPDATE webhook_deliveries
          SET status = CASE WHEN $4 THEN 'succeeded'
                            WHEN $7::double precision IS NULL THEN 'failed' ELSE 'pending' END,
              next_attempt_at = CASE WHEN $7::double precision IS NULL THEN NULL
                                     ELSE now() + make_interval(secs => $7::double precision / 1000) END,
              leased_until = NULL, last_response_status = $5, last_error = $6, updated_at = now()
        WHERE tenant_id = $1 AND id = $2 AND leased_until = $3`,
      [
        tenantId,
        claim.id,
        claim.leasedUntil,
        outcome.succeeded,
        outcome.responseStatus,
        outcome.error?.slice(0, 500) ?? null,
        outcome.retryInMs,
      ],
    );
    return recorded > 0;
  }

  /** The console's page: newest first, after the delivery `after` names. */
  page(tenantId: string, endpointId: string, q: DeliveriesQuery): Promise<WebhookDelivery[]> {
    const params: unknown[] = [tenantId, endpointId, q.limit ?? DELIVERIES_PAGE.defaultLimit];
    const conditions = ['d.tenant_id = $1', 'd.endpoint_id = $2'];
    if (q.status) conditions.push(`d.status = $${params.push(q.status)}`);
    if (q.after) {
      conditions.push(
        `(d.created_at, d.id) < (SELECT a.created_at, a.id FROM webhook_deliveries a
                                   WHERE a.tenant_id = $1 AND a.id = $${params.push(q.after)})`,
      );
    }
    return this.m
      .query<Record<string, unknown>[]>(
        `SELECT d.* FROM webhook_deliveries d WHERE ${conditions.join(' AND ')}
          ORDER BY d.created_at DESC, d.id DESC LIMIT $3`,
        params,
      )
      .then((rows) => rows.map((r) => hydrate(this.m, WebhookDelivery, r)));
  }

  /**
   * Makes a delivery due now with a fresh schedule, and returns it so; null when there is none.
   * One under way keeps its lease: its outcome is recorded as usual, and this retry follows it
   * if it failed.
   */
  async retry(tenantId: string, endpointId: string, id: string): Promise<WebhookDelivery | null> {
    const [rows] = await this.m.query<[Record<string, unknown>[], number]>(
      `UPDATE webhook_deliveries
          SET status = 'pending', attempts = 0, next_attempt_at = now(), updated_at = now()
        WHERE tenant_id = $1 AND endpoint_id = $2 AND id = $3
       RETURNING *`,
      [tenantId, endpointId, id],
    );
    return rows.length === 0 ? null : hydrate(this.m, WebhookDelivery, rows[0]);
  }

  /**
   * Tenants with deliveries due, read as hydracore_worker: that role sees their tenant, status
   * and times and nothing else.
   */
  async tenantsDue(): Promise<string[]> {
    const rows = await this.db.asWorker<{ tenant_id: string }>(TENANTS_DUE);
    return rows.map((r) => r.tenant_id);
  }

  /** Deliveries still to make, across tenants: the backlog an operator watches. */
  async backlog(): Promise<number> {
    const [row] = await this.db.asWorker<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'pending'`,
    );
    return row.n;
  }
}
