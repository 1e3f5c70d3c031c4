import { conflict } from '../common/errors';
import { jsonBytes } from '../common/json-limits';
import { toWire, wireProps } from '../common/wire';
import { WorkflowStatus } from './state-machine';
import { WorkflowHistoryEntry } from './workflow.entity';

/**
 * A workflow's history: the entry as stored, built in one place for every writer (create, a
 * change, the expiry sweep), and the bounds that keep the history small enough to read whole.
 *
 * The history is stored JSON that responses carry as stored (RawJson), so its keys are its wire
 * format: they are WorkflowHistoryEntry's wire names, the same declaration that describes the
 * history in the OpenAPI schema. Building the stored object here, in the SQL layer, is where
 * stored keys belong; services hand over a camelCase NewHistoryEntry.
 */

/** An entry as the code makes it; `at` is stamped by the database, with the row's own clock. */
export type NewHistoryEntry = Omit<WorkflowHistoryEntry, 'at'>;

/** SQL for each value of an entry: parameters, literals or the row's own columns. */
export type EntrySql = { [K in keyof NewHistoryEntry]-?: string };

const ISO_NOW = `to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const STORED = wireProps(WorkflowHistoryEntry);

/** The entry as a one-element jsonb array, to append to `history` with `||`. */
export function entrySql(values: EntrySql): string {
  const members = STORED.map(
    ({ key, wire }) => `'${wire}', ${key === 'at' ? ISO_NOW : values[key as keyof EntrySql]}`,
  );
  return `jsonb_build_array(jsonb_build_object(${members.join(', ')}))`;
}

/**
 * The entry's values as parameters appended to a statement's `params`. Its action_detail is the
 * caller's JSON as given, or a detail the API writes (a wire class) under its wire names.
 */
export function entryParams(entry: NewHistoryEntry, params: unknown[]): EntrySql {
  const param = (value: unknown, type = 'text') => `$${params.push(value)}::${type}`;
  return {
    action: param(entry.action),
    actionDetail: param(JSON.stringify(toWire(entry.actionDetail) ?? null), 'jsonb'),
    actor: param(entry.actor),
    fromStatus: param(entry.fromStatus),
    toStatus: param(entry.toStatus),
    fromStage: param(entry.fromStage),
    toStage: param(entry.toStage),
  };
}

/** What an entry adds to the history as stored: its text with its stamp, and the ", " before it. */
export function entryBytes(entry: NewHistoryEntry): number {
  const stamped = Object.assign(new WorkflowHistoryEntry(), entry, {
    at: '2030-01-01T00:00:00.000Z',
  });
  return 2 + jsonBytes(toWire(stamped));
}

/** How much a locked workflow's history already holds. */
export interface HistoryRoom {
  entries: number;
  bytes: number;
}

const MiB = 1024 * 1024;
/**
 * A workflow's history is bounded: it is read whole with every workflow. The last entry and a
 * few KiB are kept for the change that closes it, so a full history never strands it open.
 */
export const HISTORY_CAP = { entries: 1000, bytes: MiB };
const CLOSING_ROOM = { entries: 1, bytes: 4 * 1024 };
const CLOSING: ReadonlySet<WorkflowStatus> = new Set([
  'completed',
  'expired',
  'cancelled',
  'failed',
]);

/** 409 unless the history has room for `entry` (the room kept for closing, if it does not close). */
export function assertHistoryRoom(history: HistoryRoom, entry: NewHistoryEntry): void {
  const room = CLOSING.has(entry.toStatus) ? { entries: 0, bytes: 0 } : CLOSING_ROOM;
  if (
    history.entries + 1 > HISTORY_CAP.entries - room.entries ||
    history.bytes + entryBytes(entry) > HISTORY_CAP.bytes - room.bytes
  ) {
    throw conflict(
      `History full: a workflow keeps at most ${HISTORY_CAP.entries} entries ` +
        `(${HISTORY_CAP.bytes / MiB} MiB), the last kept for closing it; close this one and open a new one`,
    );
  }
}
