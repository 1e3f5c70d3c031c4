import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { RawJson } from '../common/raw-json';
import { hydrate } from '../database/rows';
import { prepared } from '../database/prepared';
import { TenantDb } from '../database/tenant-db';
import { WorkflowStatus } from './state-machine';
import { Workflow, WorkflowHistoryEntry } from './workflow.entity';

/** Marks a column to be set to the database's now(). */
export const NOW = Symbol('now');

/** Columns a change may set (names are fixed here, never taken from input). */
export interface WorkflowChange {
  status?: WorkflowStatus;
  stage?: string | null;
  assigned_to?: string | null;
  approver_id?: string | null;
  escalation_level?: number;
  expires_at?: Date | null;
  next_action_at?: Date | null;
  workflow_state?: object;
  completed_at?: typeof NOW;
  suspended_step?: string | null;
  suspended_payload?: unknown;
  suspended_at?: typeof NOW | null;
}

const JSONB = new Set(['workflow_state', 'suspended_payload']);

/** The entry minus `at`, which the database stamps with the same clock as the row. */
export type NewHistoryEntry = Omit<WorkflowHistoryEntry, 'at'>;

const ISO_NOW = `to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const entrySql = (param: string) =>
  `jsonb_build_array(jsonb_build_object('at', ${ISO_NOW}) || ${param}::jsonb)`;
/** What an entry adds to the history, as stored. */
export const entryBytes = (e: NewHistoryEntry) => Buffer.byteLength(entryJson(e));
const entryJson = (e: NewHistoryEntry) =>
  JSON.stringify({
    action: e.action,
    action_detail: e.actionDetail ?? null,
    actor: e.actor,
    from_status: e.fromStatus,
    to_status: e.toStatus,
    from_stage: e.fromStage,
    to_stage: e.toStage,
  });

/**
 * Every column the API reads, the JSON documents as text: they are sent as read, never parsed
 * (see RawJson). `at` prefixes each with a table alias.
 */
const columns = (at = '', history = `${at}history::text AS history`) =>
  `${at}tenant_id, ${at}id, ${at}instance_id, ${at}customer_id, ${at}workflow_type, ${at}status,
   ${at}stage, ${at}title, ${at}reference, ${at}assigned_to, ${at}approver_id, ${at}escalation_level,
   ${at}workflow_state::text AS workflow_state, ${history},
   ${at}suspended_payload::text AS suspended_payload, ${at}expires_at, ${at}next_action_at,
   ${at}last_action_at, ${at}completed_at, ${at}suspended_step, ${at}suspended_at, ${at}created_at,
   ${at}updated_at`;
const COLUMNS = columns();

/** What may be written to a locked workflow's history before it is full. */
export interface HistoryRoom {
  entries: number;
  bytes: number;
}

/** A list read refused because its documents are larger than one response may carry. */
export class PageTooLarge {
  constructor(readonly bytes: number) {}
}

export interface WorkflowFilter {
  instanceId?: string;
  customerId?: string;
  workflowType?: string;
  status?: WorkflowStatus;
  reference?: string;
}

/** The filters the counters are kept by, with their columns. */
const COUNTED = {
  instanceId: 'instance_id',
  customerId: 'customer_id',
  workflowType: 'workflow_type',
  status: 'status',
} as const;

/**
 * The filter as SQL conditions after `tenant_id = $1` (column names fixed here, values as
 * parameters), over `columns`: COUNTED for the counters, which are not kept by `reference`, or
 * FILTERED for the rows themselves.
 */
function filterSql(tenantId: string, filter: WorkflowFilter, columns: Record<string, string>) {
  const params: unknown[] = [tenantId];
  let sql = 'tenant_id = $1';
  for (const [key, column] of Object.entries(columns)) {
    const value = filter[key as keyof WorkflowFilter];
    if (value !== undefined) sql += ` AND ${column} = $${params.push(value)}`;
  }
  return { sql, params };
}

const FILTERED = { ...COUNTED, reference: 'reference' } as const;

/**
 * The most a list may carry in JSON documents: with the rest of each row, a response stays
 * about 30 MiB at most, and so does what one request holds in memory.
 */
export const PAGE_BUDGET_BYTES = 28 * 1024 * 1024;
/** Pages up to this weight are read at once; heavier ones wait for room in response memory. */
const SMALL_PAGE_BYTES = 1024 * 1024;

/** The lock read: no history text, only how much of it there is. */
const LOCK_COLUMNS = columns(
  '',
  'jsonb_array_length(history) AS history_entries, octet_length(history::text) AS history_bytes',
);

/** A workflow as created: its state is the caller's object; the database adds the rest. */
export type NewWorkflow = Omit<
  Workflow,
  'history' | 'createdAt' | 'updatedAt' | 'lastActionAt' | 'workflowState' | 'suspendedPayload'
> & { workflowState: object; suspendedPayload: null };

@Injectable()
export class WorkflowsRepository {
  constructor(private readonly db: TenantDb) {}

  private get m(): EntityManager {
    return this.db.manager;
  }

  /**
   * A page, newest first. Read by hand rather than through `find`: this is the API's busiest
   * read, and TypeORM's query building and hydration cost it about 0.4 ms of CPU a request, an
   * eighth of the whole (BENCHMARKS.md).
   */
  async page(
    tenantId: string,
    filter: WorkflowFilter,
    page: number,
    perPage: number,
  ): Promise<[Workflow[], number] | PageTooLarge> {
    const { sql, params } = filterSql(tenantId, filter, FILTERED);
    const rows = await this.bounded(sql, params, perPage, (page - 1) * perPage);
    if (rows instanceof PageTooLarge) return rows;
    return [rows, await this.total(tenantId, filter)];
  }

  /**
   * Newest first, at most `limit` after `offset`, in one statement: the page's ids and sizes
   * (kept by PostgreSQL on every write) first, the rows only when their documents weigh at most
   * SMALL_PAGE_BYTES. A heavier page waits for room in the process's response memory and is read
   * again; one over PAGE_BUDGET_BYTES is refused without reading a document.
   */
  private async bounded(
    where: string,
    params: unknown[],
    limit: number,
    offset: number,
  ): Promise<Workflow[] | PageTooLarge> {
    const read = (budget: number) =>
      this.m.query<Record<string, unknown>[]>(
        `WITH page AS (
           SELECT id, created_at, document_bytes FROM workflows WHERE ${where}
            ORDER BY created_at DESC, id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}),
         size AS (SELECT coalesce(sum(document_bytes), 0)::bigint AS page_bytes FROM page)
         SELECT size.page_bytes, ${columns('w.')}
           FROM size LEFT JOIN (page JOIN workflows w ON w.tenant_id = $1 AND w.id = page.id)
             ON size.page_bytes <= $${params.length + 3}
          ORDER BY page.created_at DESC, page.id DESC`,
        [...params, limit, offset, budget],
      );
    let rows = await read(SMALL_PAGE_BYTES);
    let bytes = Number(rows[0]?.page_bytes ?? 0);
    if (bytes > SMALL_PAGE_BYTES) {
      if (bytes > PAGE_BUDGET_BYTES) return new PageTooLarge(bytes);
      await this.db.holdForResponse(bytes);
      rows = await read(PAGE_BUDGET_BYTES);
      bytes = Number(rows[0]?.page_bytes ?? 0);
      if (bytes > PAGE_BUDGET_BYTES) return new PageTooLarge(bytes); // grew in between
    }
    return rows.filter((row) => row.id !== null).map((row) => this.toWorkflow(row));
  }

  /** A raw row as an entity, its JSON documents kept as text. */
  private toWorkflow(row: Record<string, unknown>): Workflow {
    const workflow = hydrate(this.m, Workflow, row);
    for (const key of ['workflowState', 'history', 'suspendedPayload'] as const) {
      const text = workflow[key] as unknown;
      workflow[key] = (typeof text === 'string' ? new RawJson(text) : null) as never;
    }
    return workflow;
  }

  /** From the trigger-kept counters; a reference filter (not counted there) counts rows. */
  private async total(tenantId: string, filter: WorkflowFilter): Promise<number> {
    const counted = filter.reference === undefined;
    const { sql, params } = filterSql(tenantId, filter, counted ? COUNTED : FILTERED);
    const [row] = await this.m.query<{ total: string }[]>(
      prepared(
        counted
          ? `SELECT COALESCE(sum(n), 0) AS total FROM workflow_counts WHERE ${sql}`
          : `SELECT count(*) AS total FROM workflows WHERE ${sql}`,
      ),
      params,
    );
    return Number(row.total);
  }

  /**
   * Folds the tenant's counter rows into one per key, touching only keys with more than one
   * row (or a zero sum), so an idle tenant costs one index read. Rows appended meanwhile are
   * not in the statement's snapshot and stay; the advisory lock keeps replicas from folding
   * the same tenant at once.
   */
  async compactCounts(tenantId: string): Promise<number> {
    const [{ locked }] = await this.m.query<{ locked: boolean }[]>(
      `SELECT pg_try_advisory_xact_lock(hashtext('workflow_counts'), hashtext($1)) AS locked`,
      [tenantId],
    );
    if (!locked) return 0;
    const [{ folded }] = await this.m.query<{ folded: string }[]>(
      `WITH loose AS (
         SELECT instance_id, customer_id, workflow_type, status FROM workflow_counts
          WHERE tenant_id = $1 GROUP BY 1, 2, 3, 4 HAVING count(*) > 1 OR sum(n) = 0),
       gone AS (
         DELETE FROM workflow_counts c USING loose l
          WHERE c.tenant_id = $1 AND c.instance_id = l.instance_id AND c.customer_id = l.customer_id
            AND c.workflow_type = l.workflow_type AND c.status = l.status
         RETURNING c.*),
       kept AS (
         INSERT INTO workflow_counts
         SELECT tenant_id, instance_id, customer_id, workflow_type, status, sum(n) FROM gone
          GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0
         RETURNING 1)
       SELECT (SELECT count(*) FROM gone) - (SELECT count(*) FROM kept) AS folded`,
      [tenantId],
    );
    return Number(folded);
  }

  suspended(
    tenantId: string,
    customerId: string | null,
    limit: number,
  ): Promise<Workflow[] | PageTooLarge> {
    const params: unknown[] = [tenantId];
    const ofCustomer = customerId ? ` AND customer_id = $${params.push(customerId)}` : '';
    return this.bounded(`tenant_id = $1 AND status = 'suspended'${ofCustomer}`, params, limit, 0);
  }

  async find(tenantId: string, id: string, instanceId?: string): Promise<Workflow | null> {
    const row = await this.one(tenantId, id, instanceId, COLUMNS, '');
    return row && this.toWorkflow(row);
  }

  /**
   * Row-locked until the request's transaction ends: changes to one workflow queue up (for at
   * most the lock timeout). With the room its history has left; the history itself is not
   * read, since a change appends to it in SQL.
   */
  async lock(
    tenantId: string,
    id: string,
    instanceId?: string,
  ): Promise<{ workflow: Workflow; history: HistoryRoom } | null> {
    const row = await this.one(tenantId, id, instanceId, LOCK_COLUMNS, ' FOR UPDATE');
    if (!row) return null;
    const history = { entries: Number(row.history_entries), bytes: Number(row.history_bytes) };
    return { workflow: this.toWorkflow(row), history };
  }

  /** Read by hand, as the page is: `findOneBy` cost a single-row read a seventh of its CPU. */
  private async one(
    tenantId: string,
    id: string,
    instanceId: string | undefined,
    select: string,
    lock: '' | ' FOR UPDATE',
  ): Promise<Record<string, unknown> | null> {
    const params = [tenantId, id];
    const ofInstance = instanceId ? ` AND instance_id = $${params.push(instanceId)}` : '';
    const [row] = await this.m.query<Record<string, unknown>[]>(
      `SELECT ${select} FROM workflows WHERE tenant_id = $1 AND id = $2${ofInstance}${lock}`,
      params,
    );
    return row ?? null;
  }

  async insert(values: NewWorkflow, entry: NewHistoryEntry): Promise<Workflow> {
    const [row] = await this.m.query<Record<string, unknown>[]>(
      `INSERT INTO workflows (tenant_id, id, instance_id, customer_id, workflow_type, status, stage, title,
          reference, assigned_to, approver_id, escalation_level, workflow_state, expires_at, next_action_at,
          completed_at, suspended_step, suspended_payload, suspended_at, history, last_action_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15, NULL, NULL, NULL, NULL,
          ${entrySql('$16')}, now())
       RETURNING ${COLUMNS}`,
      [
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
        entryJson(entry),
      ],
    );
    return this.toWorkflow(row);
  }

  /** One statement: the change, its history entry, last_action_at and updated_at. */
  async change(
    workflow: Workflow,
    change: WorkflowChange,
    entry: NewHistoryEntry,
  ): Promise<Workflow> {
    const params: unknown[] = [workflow.tenantId, workflow.id, entryJson(entry)];
    const sets = [
      `history = history || ${entrySql('$3')}`,
      'last_action_at = now()',
      'updated_at = now()',
    ];
    for (const [column, value] of Object.entries(change)) {
      if (value === undefined) continue;
      if (value === NOW) {
        sets.push(`${column} = now()`);
        continue;
      }
      params.push(JSONB.has(column) && value !== null ? JSON.stringify(value) : value);
      sets.push(`${column} = $${params.length}${JSONB.has(column) ? '::jsonb' : ''}`);
    }
    const [rows] = await this.m.query<[Record<string, unknown>[], number]>(
      `UPDATE workflows SET ${sets.join(', ')} WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      params,
    );
    return this.toWorkflow(rows[0]);
  }

  /**
   * Expires this tenant's open workflows past expires_at, each with a `system` history entry.
   * Rows a request holds are skipped (SKIP LOCKED) and taken on the next sweep, so replicas
   * sweeping at once neither wait on each other nor expire a row twice.
   */
  async expireDue(tenantId: string, limit: number): Promise<number> {
    const [, count] = await this.m.query<[unknown, number]>(
      `WITH due AS (
         SELECT id FROM workflows
          WHERE tenant_id = $1 AND status IN ('active', 'awaiting_approval', 'paused', 'suspended')
            AND expires_at <= now()
          ORDER BY expires_at
          LIMIT $2
          FOR UPDATE SKIP LOCKED)
       UPDATE workflows w
          SET history = w.history || jsonb_build_array(jsonb_build_object(
                'at', ${ISO_NOW}, 'action', 'expired', 'action_detail', NULL, 'actor', 'system',
                'from_status', w.status, 'to_status', 'expired', 'from_stage', w.stage, 'to_stage', w.stage)),
              status = 'expired', last_action_at = now(), updated_at = now(),
              suspended_step = NULL, suspended_payload = NULL, suspended_at = NULL
         FROM due
        WHERE w.tenant_id = $1 AND w.id = due.id`,
      [tenantId, limit],
    );
    return count;
  }
}
