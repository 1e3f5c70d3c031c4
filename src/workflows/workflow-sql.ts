import { jsonBytes } from '../common/json-limits';
import { WorkflowStatus } from './state-machine';
import { Workflow, WorkflowHistoryEntry } from './workflow.entity';

/**
 * The workflow table's SQL, apart from the repository that runs it: the columns read (documents
 * as text), the history entry as the database stamps it, the list's filters and the size budgets
 * of a page.
 */

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

export const JSONB = new Set(['workflow_state', 'suspended_payload']);

/** The entry minus `at`, which the database stamps with the same clock as the row. */
export type NewHistoryEntry = Omit<WorkflowHistoryEntry, 'at'>;

export const ISO_NOW = `to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
export const entrySql = (param: string) =>
  `jsonb_build_array(jsonb_build_object('at', ${ISO_NOW}) || ${param}::jsonb)`;
const entryObject = (e: NewHistoryEntry) => ({
  action: e.action,
  action_detail: e.actionDetail ?? null,
  actor: e.actor,
  from_status: e.fromStatus,
  to_status: e.toStatus,
  from_stage: e.fromStage,
  to_stage: e.toStage,
});
export const entryJson = (e: NewHistoryEntry) => JSON.stringify(entryObject(e));
/** What an entry adds to the history as stored: its text with its stamp, and the ", " before it. */
export const entryBytes = (e: NewHistoryEntry) =>
  2 + jsonBytes({ at: '2030-01-01T00:00:00.000Z', ...entryObject(e) });

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
export const COUNTED = {
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
  return { sql, params };
}

export const FILTERED = { ...COUNTED, reference: 'reference' } as const;

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

/** The lock read: no history text, only how much of it there is. */
export const LOCK_COLUMNS = columns(
  '',
  'jsonb_array_length(history) AS history_entries, document_bytes',
);

/** A workflow as created: its state is the caller's object; the database adds the rest. */
export type NewWorkflow = Omit<
  Workflow,
  'history' | 'createdAt' | 'updatedAt' | 'lastActionAt' | 'workflowState' | 'suspendedPayload'
> & { workflowState: object; suspendedPayload: null };
