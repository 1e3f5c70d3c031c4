import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { TenantDb } from '../database/tenant-db';
import { refuseUnknownCustomer } from '../directory/customer-reference';
import { Workflow } from './workflow.entity';
import { entryParams, entrySql, HistoryRoom, NewHistoryEntry } from './workflow-history';
import { WorkflowStatus } from './state-machine';
import {
  changeSets,
  columns,
  COLUMNS,
  LOCK_COLUMNS,
  NewWorkflow,
  OPEN_SQL,
  toWorkflow,
  WorkflowChange,
} from './workflow-sql';

/** One workflow at a time: read, row-locked, created, changed; and its timers (due, expiry). */
@Injectable()
export class WorkflowsRepository {
  constructor(private readonly db: TenantDb) {}

  private get m(): EntityManager {
    return this.db.manager;
  }

  /** Read by hand, as the page is: `findOneBy` cost a single-row read a seventh of its CPU. */
  async find(tenantId: string, id: string, instanceId?: string): Promise<Workflow | null> {
    const [row] = await this.m.query<Record<string, unknown>[]>(
      `SELECT ${COLUMNS} FROM workflows WHERE ${byId(instanceId)}`,
      idParams(tenantId, id, instanceId),
    );
    return row ? toWorkflow(this.m, row) : null;
  }

  /**
   * Row-locked until the request's transaction ends: changes to one workflow queue up (for at
   * most the lock timeout). With the room its history has left; the history itself is not
   * read, since a change appends to it in SQL. Hand-written like `find`: every change reads it.
   *
   * Every change rewrites the history, so the lock charges its tenant's pace for it:
   * HISTORY_REWRITE_WEIGHT times its bytes, on top of the change's answer, which carries it too.
   */
  async lock(
    tenantId: string,
    id: string,
    instanceId?: string,
  ): Promise<{ workflow: Workflow; history: HistoryRoom } | null> {
    const [row] = await this.m.query<Record<string, unknown>[]>(
      `SELECT ${LOCK_COLUMNS} FROM workflows WHERE ${byId(instanceId)} FOR UPDATE`,
      idParams(tenantId, id, instanceId),
    );
    if (!row) return null;
    // The history's size without turning it into text again: what the row weighs, less the
    // documents this read has as text anyway.
    const others = [row.workflow_state, row.suspended_payload].map((text) =>
      typeof text === 'string' ? Buffer.byteLength(text) : 0,
    );
    const bytes = Number(row.document_bytes) - others[0] - others[1];
    const history = { entries: Number(row.history_entries), bytes };
    this.db.admission.chargeDocuments(tenantId, bytes * HISTORY_REWRITE_WEIGHT);
    return { workflow: toWorkflow(this.m, row), history };
  }

  async insert(values: NewWorkflow, entry: NewHistoryEntry): Promise<Workflow> {
    const params: unknown[] = [
      values.tenantId,
      values.id,
      values.instanceId,
      values.customerId,
      values.workflowType,
      values.status,
      values.stage,
      values.title,
      values.reference,
      values.assignedTo,
      values.approverId,
      values.escalationLevel,
      JSON.stringify(values.workflowState),
      values.expiresAt,
      values.nextActionAt,
    ];
    const history = entrySql(entryParams(entry, params));
    const [row] = await this.m
      .query<Record<string, unknown>[]>(
        `INSERT INTO workflows (tenant_id, id, instance_id, customer_id, workflow_type, status, stage, title,
          reference, assigned_to, approver_id, escalation_level, workflow_state, expires_at, next_action_at,
          completed_at, suspended_step, suspended_payload, suspended_at, history, last_action_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15, NULL, NULL, NULL, NULL,
          ${history}, now())
       RETURNING ${COLUMNS}`,
        params,
      )
      .catch(refuseUnknownCustomer('workflows'));
    return toWorkflow(this.m, row);
  }

  /** One statement: the change, its history entry, last_action_at and updated_at. */
  async change(
    workflow: Workflow,
    change: WorkflowChange,
    entry: NewHistoryEntry,
  ): Promise<Workflow> {
    const params: unknown[] = [workflow.tenantId, workflow.id];
    const sets = [
      `history = history || ${entrySql(entryParams(entry, params))}`,
      'last_action_at = now()',
      'updated_at = now()',
      ...changeSets(change, params),
    ];
    if (change.nextActionAt !== undefined) {
      // Moving next_action_at clears the mark, so the new time is announced even if that same
      // time was announced before (moved away and back); resending the current time keeps it.
      const at = `$${params.push(change.nextActionAt)}::timestamptz`;
      sets.push(
        `due_announced_for = CASE WHEN next_action_at IS NOT DISTINCT FROM ${at} THEN due_announced_for END`,
      );
    }
    const [rows] = await this.m.query<[Record<string, unknown>[], number]>(
      `UPDATE workflows SET ${sets.join(', ')} WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      params,
    );
    return toWorkflow(this.m, rows[0]);
  }

  /**
   * Marks up to `limit` of this tenant's due workflows (open, next_action_at come and not yet
   * announced) as announced, soonest first, and returns them. A workflow that expired before its
   * time came is left to expiry. Rows another transaction holds are skipped (SKIP LOCKED) and
   * taken on the next pass; one marked meanwhile no longer matches once its lock is released,
   * so replicas announcing at once never take the same row twice.
   */
  async claimDue(tenantId: string, limit: number): Promise<Workflow[]> {
    const [rows] = await this.m.query<[Record<string, unknown>[], number]>(
      `WITH due AS (
         SELECT id FROM workflows
          WHERE tenant_id = $1 AND ${UNANNOUNCED} AND next_action_at <= now()
            AND (expires_at IS NULL OR next_action_at < expires_at)
          ORDER BY next_action_at
          LIMIT $2
          FOR UPDATE SKIP LOCKED)
       UPDATE workflows w SET due_announced_for = w.next_action_at
         FROM due
        WHERE w.tenant_id = $1 AND w.id = due.id
       RETURNING ${columns('w.')}`,
      [tenantId, limit],
    );
    return inOrder(
      rows.map((row) => toWorkflow(this.m, row)),
      (w) => w.nextActionAt,
    );
  }

  /**
   * Expires up to `limit` of this tenant's open workflows past expires_at, soonest first, each
   * with a `system` history entry; returns them with the status each had. Claimed as claimDue.
   */
  async expireDue(tenantId: string, limit: number): Promise<Expired[]> {
    const [rows] = await this.m.query<[Record<string, unknown>[], number]>(
      `WITH due AS (
         SELECT id, status FROM workflows
          WHERE tenant_id = $1 AND ${OPEN_SQL} AND expires_at IS NOT NULL AND expires_at <= now()
          ORDER BY expires_at
          LIMIT $2
          FOR UPDATE SKIP LOCKED)
       UPDATE workflows w
          SET history = w.history || ${EXPIRY},
              status = 'expired', last_action_at = now(), updated_at = now(),
              suspended_step = NULL, suspended_payload = NULL, suspended_at = NULL
         FROM due
        WHERE w.tenant_id = $1 AND w.id = due.id
       RETURNING due.status AS from_status, ${columns('w.')}`,
      [tenantId, limit],
    );
    const expired = rows.map((row) => ({
      workflow: toWorkflow(this.m, row),
      fromStatus: row.from_status as WorkflowStatus,
    }));
    return inOrder(expired, (e) => e.workflow.expiresAt);
  }

  /**
   * Tenants with a workflow due or past expires_at while open, read across tenants as
   * hydracore_worker: the role's policies on workflows show it exactly those rows, and only
   * their tenant id, so the condition is the policies' (over the partial indexes workflows_due
   * and workflows_expiry). It runs every second, so it must cost the rows with work, not the
   * table: left to its estimates the planner reads every open workflow whose time has passed,
   * announced or not (see `asWorker`).
   */
  async tenantsWithTimersDue(): Promise<string[]> {
    const rows = await this.db.asWorker<{ tenant_id: string }>(
      'SELECT DISTINCT tenant_id FROM workflows',
      { overIndexes: true },
    );
    return rows.map((r) => r.tenant_id);
  }
}

/** A workflow the expiry took, with the status it had. */
export interface Expired {
  workflow: Workflow;
  fromStatus: WorkflowStatus;
}

/**
 * A change to a workflow costs the database and the API about 27 ns a byte of its history
 * (measured, one change at a time, histories of 12 to 222 KB: 8.6 to 14.3 ms a change), five
 * times what reading a document costs a byte. The answer already charges one; the lock
 * charges the other four. A tenant changing one workflow from sixty connections (a row-lock
 * storm) then goes at the pace the work costs (BENCHMARKS.md, "Fairness").
 */
const HISTORY_REWRITE_WEIGHT = 4;

/** UPDATE … RETURNING follows no order: the events are raised in the order the times came. */
function inOrder<T>(items: T[], time: (item: T) => Date | null): T[] {
  return items.sort((a, b) => (time(a)?.getTime() ?? 0) - (time(b)?.getTime() ?? 0));
}

/** Open, with a next_action_at not yet announced (the predicate of the index workflows_due). */
const UNANNOUNCED = `${OPEN_SQL} AND next_action_at IS NOT NULL
  AND due_announced_for IS DISTINCT FROM next_action_at`;

/** One workflow of the tenant, within the caller's instance when it has one. */
const byId = (instanceId?: string) =>
  instanceId ? 'tenant_id = $1 AND id = $2 AND instance_id = $3' : 'tenant_id = $1 AND id = $2';
const idParams = (tenantId: string, id: string, instanceId?: string) =>
  instanceId ? [tenantId, id, instanceId] : [tenantId, id];

/** The sweep's entry, from each row's own status and stage. */
const EXPIRY = entrySql({
  action: `'expired'`,
  actionDetail: 'NULL',
  actor: `'system'`,
  fromStatus: 'w.status',
  toStatus: `'expired'`,
  fromStage: 'w.stage',
  toStage: 'w.stage',
});
