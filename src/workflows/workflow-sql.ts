import { DataSource, EntityManager } from 'typeorm';
import { RawJson } from '../common/raw-json';
import { arrayHydrator, hydrate } from '../database/rows';
import { OPEN_STATUSES, WORKFLOW_STATUSES, WORKFLOW_TYPES, WorkflowStatus } from './state-machine';
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

/** Every column the API reads, in the order it reads them. */
// prettier-ignore
const READ = [
  'tenant_id', 'id', 'instance_id', 'customer_id', 'workflow_type', 'status', 'stage', 'title',
  'reference', 'assigned_to', 'approver_id', 'escalation_level', 'workflow_state', 'history',
  'suspended_payload', 'expires_at', 'next_action_at', 'last_action_at', 'completed_at',
  'suspended_step', 'suspended_at', 'created_at', 'updated_at',
] as const;

/**
 * Every column the API reads, the JSON documents as text: they are sent as read, never parsed
 * (see RawJson). `at` prefixes each with a table alias.
 */
export function columns(at = '', history = `${at}history::text AS history`): string {
  const key = `${at}\n${history}`;
  let list = COLUMN_LISTS.get(key);
  if (list === undefined) {
    list = READ.map((c) =>
      c === 'history'
        ? history
        : c === 'workflow_state' || c === 'suspended_payload'
          ? `${at}${c}::text AS ${c}`
          : `${at}${c}`,
    ).join(', ');
    COLUMN_LISTS.set(key, list);
  }
  return list;
}
/** Built once per alias: the hot reads ask for theirs on every request. */
const COLUMN_LISTS = new Map<string, string>();
export const COLUMNS = columns();

/**
 * The same columns as stored, with the documents' weight: what a page holds before it is known
 * to be light enough to send (a document not yet turned into text is a TOAST pointer).
 */
export const STORED_COLUMNS = `${READ.join(', ')}, document_bytes`;

/** The lock read: no history text, only how much of it there is. */
export const LOCK_COLUMNS = columns(
  '',
  'jsonb_array_length(history) AS history_entries, document_bytes',
);

/** A raw row as an entity, its JSON documents kept as text. */
export function toWorkflow(manager: EntityManager, row: Record<string, unknown>): Workflow {
  return withDocuments(hydrate(manager, Workflow, row));
}

/** Where READ's columns start in a row of a list, which reads arrays (see arrayHydrator). */
export const LISTED_FROM = 2;
/** Where its id is: null in the one row of an empty page, or of one too heavy to read at once. */
export const LISTED_ID = LISTED_FROM + READ.indexOf('id');
const listed = new WeakMap<DataSource, (row: unknown[]) => Workflow>();

/** A row of a list's statement as an entity: `columns()` from LISTED_FROM on, as an array. */
export function listedWorkflow(manager: EntityManager, row: unknown[]): Workflow {
  let read = listed.get(manager.connection);
  if (!read) {
    read = arrayHydrator(manager.connection, Workflow, READ, LISTED_FROM);
    listed.set(manager.connection, read);
  }
  return withDocuments(read(row));
}

/** The documents, read as text, wrapped to be sent as they are. */
function withDocuments(workflow: Workflow): Workflow {
  workflow.workflowState = document(workflow.workflowState) as RawJson;
  workflow.history = document(workflow.history) as RawJson;
  workflow.suspendedPayload = document(workflow.suspendedPayload);
  return workflow;
}

const document = (text: unknown) => (typeof text === 'string' ? new RawJson(text) : null);

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

/**
 * Filters over a short fixed list of values, written into the statement rather than passed: a
 * generic plan, made without the parameters, takes `status = $2` for a common status and walks
 * the tenant's workflows newest first; with the value written in, any plan knows how rare it is
 * and reads its index. (A list so filtered is not kept prepared today: see
 * WorkflowListsRepository.bounded.)
 */
const WRITTEN_IN = { status: WORKFLOW_STATUSES, workflowType: WORKFLOW_TYPES } as const;

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
    if (value === undefined) continue;
    const listed: readonly unknown[] | undefined = WRITTEN_IN[key as keyof typeof WRITTEN_IN];
    if (!listed) sql += ` AND ${column} = $${params.push(value)}`;
    else if (listed.includes(value)) sql += ` AND ${column} = '${String(value)}'`;
    else throw new Error(`${key} is not one of its values`);
  }
  if (filter.dueBefore !== undefined) {
    // `> '-infinity'` is the predicate of the index workflows_due_list (see its migration).
    sql += ` AND ${OPEN_SQL} AND next_action_at > '-infinity' AND next_action_at <= $${params.push(filter.dueBefore)}`;
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
