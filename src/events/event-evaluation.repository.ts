import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { TenantDb } from '../database/tenant-db';

/**
 * Takes the tenant's cursor for the current transaction, in one statement: its row is created
 * at 0 when the tenant has none yet (the inserted row is this transaction's until it commits),
 * else locked unless another transaction holds it. Both parts read the statement's one snapshot,
 * so exactly one of them answers, or neither when another pass has the row (SKIP LOCKED) or is
 * creating it (the insert waits for that one and then finds the row taken).
 */
const CLAIM_CURSOR = `
  WITH created AS (
    INSERT INTO event_evaluation_cursors (tenant_id) VALUES ($1)
    ON CONFLICT (tenant_id) DO NOTHING
    RETURNING evaluated_through
  ), locked AS (
    SELECT evaluated_through FROM event_evaluation_cursors WHERE tenant_id = $1
       FOR UPDATE SKIP LOCKED
  )
  SELECT evaluated_through FROM created UNION ALL SELECT evaluated_through FROM locked`;

/**
 * The evaluator's state: each tenant's cursor (`event_evaluation_cursors`: the feed position
 * through which its raised events have been evaluated) and the POSTed events it passes over
 * (`events_evaluated_on_receipt`).
 */
@Injectable()
export class EventEvaluationRepository {
  constructor(private readonly db: TenantDb) {}

  private get m(): EntityManager {
    return this.db.manager;
  }

  /** See CLAIM_CURSOR: the position evaluated through, or null when another pass has it. */
  async claimCursor(tenantId: string): Promise<number | null> {
    const rows = await this.m.query<{ evaluated_through: string }[]>(CLAIM_CURSOR, [tenantId]);
    return rows.length === 0 ? null : Number(rows[0].evaluated_through);
  }

  /** Moves the claimed cursor; it commits with the evaluations it stands for. */
  async advance(tenantId: string, through: number): Promise<void> {
    await this.m.query(
      `UPDATE event_evaluation_cursors SET evaluated_through = $2 WHERE tenant_id = $1`,
      [tenantId, through],
    );
  }

  /** An event whose rules ran when it was received: the evaluator must not run them again. */
  async markEvaluated(tenantId: string, eventId: string): Promise<void> {
    await this.m.query(
      `INSERT INTO events_evaluated_on_receipt (tenant_id, event_id) VALUES ($1, $2)`,
      [tenantId, eventId],
    );
  }

  /**
   * Which of these events were evaluated on receipt; their marks are removed, as the pass that
   * asks passes them over for good (it commits, or the marks come back with its rollback).
   */
  async takeEvaluated(tenantId: string, eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    // For a DELETE, TypeORM answers [rows, affected].
    const [rows] = await this.m.query<[{ event_id: string }[], number]>(
      `DELETE FROM events_evaluated_on_receipt WHERE tenant_id = $1 AND event_id = ANY($2::uuid[])
       RETURNING event_id`,
      [tenantId, eventIds],
    );
    return new Set(rows.map((r) => r.event_id));
  }

  /**
   * Every tenant's cursor, read as hydracore_worker: outside any tenant, that role sees the
   * tenant and position of each cursor and nothing else.
   */
  async cursors(): Promise<Map<string, number>> {
    const rows = await this.db.asWorker<{ tenant_id: string; evaluated_through: string }>(
      'SELECT tenant_id, evaluated_through FROM event_evaluation_cursors',
    );
    return new Map(rows.map((r) => [r.tenant_id, Number(r.evaluated_through)]));
  }
}
