import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { hydrate } from '../database/rows';
import { TenantDb } from '../database/tenant-db';
import { OutboxKind, OutboxMessage, OutboxStatus } from './outbox-message.entity';

@Injectable()
export class OutboxRepository {
  constructor(private readonly db: TenantDb) {}

  private get m(): EntityManager {
    return this.db.manager;
  }

  /** Written in the caller's transaction: the message exists exactly when the decision does. */
  async add(
    tenantId: string,
    kind: OutboxKind,
    payload: Record<string, unknown>,
    approvalId: string | null = null,
  ): Promise<string> {
    const id = randomUUID();
    await this.m.query(
      `INSERT INTO outbox (tenant_id, id, kind, approval_id, payload) VALUES ($1, $2, $3, $4, $5::jsonb)`,
      [
        tenantId,
        id,
        kind,
        approvalId,
        JSON.stringify({ ...payload, outbox_id: id, kind, tenant_id: tenantId }),
      ],
    );
    return id;
  }

  /**
   * How far the replays of these approvals have got, by approval id. Only an approved approval
   * has a replay; the others are absent from the map.
   */
  async replayStates(
    tenantId: string,
    approvalIds: readonly string[],
  ): Promise<Map<string, { status: OutboxStatus; attempts: number }>> {
    if (approvalIds.length === 0) return new Map();
    const rows = await this.m.query<
      { approval_id: string; status: OutboxStatus; attempts: number }[]
    >(
      `SELECT approval_id, status, attempts FROM outbox
        WHERE tenant_id = $1 AND approval_id = ANY($2::uuid[]) AND kind = 'approval.replay'`,
      [tenantId, approvalIds],
    );
    return new Map(rows.map((r) => [r.approval_id, { status: r.status, attempts: r.attempts }]));
  }

  /**
   * Claims due messages for `leaseMs` and counts the attempt; the new count is the claim's token,
   * which only its holder may record an outcome with. The claim commits before delivery, so a
   * relay that dies mid-delivery leaves the message to be retried when the lease runs out, with
   * the same id (hence the same Idempotency-Key): delivered at least once, never lost.
   */
  async claimDue(tenantId: string, limit: number, leaseMs: number): Promise<OutboxMessage[]> {
    const [rows] = await this.m.query<[Record<string, unknown>[], number]>(
      `WITH due AS (
         SELECT id FROM outbox WHERE tenant_id = $1 AND status = 'pending' AND next_attempt_at <= now()
          ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE outbox o SET attempts = o.attempts + 1, updated_at = now(),
              next_attempt_at = now() + make_interval(secs => $3::double precision / 1000)
         FROM due WHERE o.tenant_id = $1 AND o.id = due.id
       RETURNING o.*`,
      [tenantId, limit, leaseMs],
    );
    return rows.map((r) => hydrate(this.m, OutboxMessage, r));
  }

  /**
   * Records a delivery made under claim `attempt`. False when that claim is no longer the
   * message's (its lease ran out and another relay claimed it): the newer attempt's state stands.
   */
  async markDelivered(tenantId: string, id: string, attempt: number): Promise<boolean> {
    const [, count] = await this.m.query<[unknown[], number]>(
      `UPDATE outbox SET status = 'delivered', delivered_at = now(), last_error = NULL, updated_at = now()
        WHERE tenant_id = $1 AND id = $2 AND attempts = $3 AND status = 'pending'`,
      [tenantId, id, attempt],
    );
    return count > 0;
  }

  /** Ends claim `attempt` early: the message is due again now. */
  async release(tenantId: string, id: string, attempt: number): Promise<void> {
    await this.m.query(
      `UPDATE outbox SET next_attempt_at = now(), updated_at = now()
        WHERE tenant_id = $1 AND id = $2 AND attempts = $3 AND status = 'pending'`,
      [tenantId, id, attempt],
    );
  }

  /**
   * Records a failure of claim `attempt`: retry after `retryInMs`, or give up (dead) when no
   * attempts are left. False, changing nothing, when that claim is no longer the message's.
   */
  async markFailed(
    tenantId: string,
    id: string,
    attempt: number,
    error: string,
    retryInMs: number | null,
  ): Promise<boolean> {
    const [, count] = await this.m.query<[unknown[], number]>(
      `UPDATE outbox SET last_error = $4, updated_at = now(),
              status = CASE WHEN $5::double precision IS NULL THEN 'dead' ELSE status END,
              next_attempt_at = CASE WHEN $5::double precision IS NULL THEN next_attempt_at
                                     ELSE now() + make_interval(secs => $5::double precision / 1000) END
        WHERE tenant_id = $1 AND id = $2 AND attempts = $3 AND status = 'pending'`,
      [tenantId, id, attempt, error.slice(0, 500), retryInMs],
    );
    return count > 0;
  }

  /** Messages still to deliver, across tenants, read as hydracore_worker (it sees their status only). */
  async backlog(): Promise<number> {
    const [row] = await this.db.asWorker<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox WHERE status = 'pending'`,
    );
    return row.n;
  }
}
