import { EntityManager } from 'typeorm';
import { RawJson } from '../common/raw-json';
import { hydrate } from '../database/rows';
import { OPEN_STATUSES, WorkflowStatus } from './state-machine';
import { Workflow } from './workflow.entity';

/**
 * The workflow table's SQL, apart from the repositories that run it: the columns read (documents
 * as text), the columns a change may set, the list's filters and the size budgets of a page.
 * The history entry has its own module (workflow-history.ts).
 */

/** Marks a column to be set to the database's now(). */
export const NOW = Symbol('now');

/** What a change may set, as the code names it; CHANGE_COLUMNS says where each goes. */
export interface WorkflowChange {
  status?: WorkflowStatus;
  stage?: string | null;
  assignedTo?: string | null;
  approverId?: string | null;
  escalationLevel?: number;
  expiresAt?: Date | null;
  nextActionAt?: Date | null;
  workflowState?: object;
  completedAt?: typeof NOW;
  suspendedStep?: string | null;
  suspendedPayload?: unknown;
  suspendedAt?: typeof NOW | null;
}

/**
 * Each field a change may set, with its column: the only names a change brings into SQL. A
 * field is read from the change by this table, never the other way round, so no key of the
 * object reaches the statement.
 */
const CHANGE_COLUMNS: { readonly [K in keyof WorkflowChange]-?: string } = {
  status: 'status',
  stage: 'stage',
  assignedTo: 'assigned_to',
  approverId: 'approver_id',
  escalationLevel: 'escalation_level',
  expiresAt: 'expires_at',
  nextActionAt: 'next_action_at',
  workflowState: 'workflow_state',
  completedAt: 'completed_at',
  suspendedStep: 'suspended_step',
  suspendedPayload: 'suspended_payload',
  suspendedAt: 'suspended_at',
};
const CHANGEABLE = Object.entries(CHANGE_COLUMNS) as [keyof WorkflowChange, string][];
const JSONB: ReadonlySet<keyof WorkflowChange> = new Set(['workflowState', 'suspendedPayload']);

/** The `column = value` assignments of a change, its values appended to `params`. */
export function changeSets(change: WorkflowChange, params: unknown[]): string[] {
  const sets: string[] = [];
  for (const [field, column] of CHANGEABLE) {
    const value = change[field];
    if (value === undefined) continue;
    if (value === NOW) {
      sets.push(`${column} = now()`);
    } else if (JSONB.has(field)) {
      const text = value === null ? null : JSON.stringify(value);
      sets.push(`${column} = $${params.push(text)}::jsonb`);
    } else {
      sets.push(`${column} = $${params.push(value)}`);
    }
  }
  return sets;
}

/**
 * Every column the API reads, the JSON documents as text: they are sent as read, never parsed
 * (see RawJson). `at` prefixes each with a table alias.
 */
export const columns = (at = '', history = `${at}history::text AS history`) =>
  `${at}tenant_id, ${at}id, ${at}instance_id, ${at}customer_id, ${at}workflow_type, ${at}status,
   ${at}stage, ${at}title, ${at}reference, ${at}assigned_to, ${at}approver_id, ${at}escalation_level,
   ${at}workflow_state::text AS workflow_state, ${history},
   ${at}suspended_payload::text AS suspended_payload, ${at}expires_at, ${at}next_action_at,
   ${at}last_action_at, ${at}completed_at, ${at}suspended_step, ${at}suspended_at, ${at}created_at,
   ${at}updated_at`;
export const COLUMNS = columns();

/** The lock read: no history text, only how much of it there is. */
export const LOCK_COLUMNS = columns(
  '',
  'jsonb_array_length(history) AS history_entries, document_bytes',
);

/** A raw row as an entity, its JSON documents kept as text. */
export function toWorkflow(manager: EntityManager, row: Record<string, unknown>): Workflow {
  const workflow = hydrate(manager, Workflow, row);
  for (const key of ['workflowState', 'history', 'suspendedPayload'] as const) {
    const text = workflow[key] as unknown;
    workflow[key] = (typeof text === 'string' ? new RawJson(text) : null) as never;
  }
  return workflow;
}

/** A workflow as created: its state is the caller's object; the database adds the rest. */
export type NewWorkflow = Omit<
  Workflow,
  'history' | 'createdAt' | 'updatedAt' | 'lastActionAt' | 'workflowState' | 'suspendedPayload'
> & { workflowState: object; suspendedPayload: null };

/** A list read refused because its documents are larger than one response may carry. */
export class PageTooLarge {
  constructor(readonly bytes: number) {}
}

/**
 * `status IN (…open statuses…)`, in the order the partial indexes over open workflows name them
 * (constants, not input).
 */
export const OPEN_SQL = `status IN (${OPEN_STATUSES.map((s) => `'${s}'`).join(', ')})`;

export interface WorkflowFilter {
  instanceId?: string;
  customerId?: string;
  workflowType?: string;
  status?: WorkflowStatus;
  reference?: string;
  /** Open workflows whose next_action_at is at or before this time. */
  dueBefore?: Date;
}

/** The filters the counters are kept by, with their columns. */
export const COUNTED = {
  instanceId: 'instance_id',
  customerId: 'customer_id',
  workflowType: 'workflow_type',
  status: 'status',
} as const;

export const FILTERED = { ...COUNTED, reference: 'reference' } as const;

/** Whether the counters can total this filter: they are kept by neither reference nor time. */
export const countable = (filter: WorkflowFilter) =>
  filter.reference === undefined && filter.dueBefore === undefined;

/**
 * The filter as SQL conditions after `tenant_id = $1` (column names fixed here, values as
 * parameters), over `columns`: COUNTED for the counters (only for a `countable` filter), or
 * FILTERED for the rows themselves.
 */
export function filterSql(
  tenantId: string,
  filter: WorkflowFilter,
  columns: Record<string, string>,
) {
  const params: unknown[] = [tenantId];
  let sql = 'tenant_id = $1';
  for (const [key, column] of Object.entries(columns)) {
    const value = filter[key as keyof WorkflowFilter];
    if (value !== undefined) sql += ` AND ${column} = $${params.push(value)}`;
  }
  if (filter.dueBefore !== undefined) {
    sql += ` AND ${OPEN_SQL} AND next_action_at <= $${params.push(filter.dueBefore)}`;
  }
  return { sql, params };
}

/**
 * The most a list may carry in JSON documents: with the rest of each row, a response stays
 * about 30 MiB at most, and so does what one request holds in memory.
 */
export const PAGE_BUDGET_BYTES = 28 * 1024 * 1024;
/** Pages up to this weight are read at once; heavier ones wait for room in response memory. */
export const SMALL_PAGE_BYTES = 1024 * 1024;
/** A heavy page is read this much at a time, with this pause between reads. */
export const BATCH_BYTES = 2 * 1024 * 1024;
export const BATCH_PAUSE_MS = 50;
