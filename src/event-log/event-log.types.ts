import type { LoggedEvent } from './logged-event.entity';

/** An event to be written, its data already in wire form. */
export interface EventRow {
  type: string;
  instanceId: string | null;
  customerId: string | null;
  causedBy: string | null;
  depth: number;
  data: unknown;
}

/**
 * What narrows a page of the log: each filter present adds its condition, so each combination
 * is a statement of its own whose plan can use the index of its filter.
 */
export interface EventFilter {
  /** This instance's events and the tenant's events of no instance: an instance's feed. */
  instanceOrTenant?: string;
  /** This instance's events only. */
  instanceId?: string;
  customerId?: string;
  type?: string;
  /** Any of these types. */
  types?: string[];
}

export interface PageQuery {
  /** Events strictly after this position, and after any retention removed. */
  after: number;
  limit: number;
  filter: EventFilter;
}

/** A page of the log and, read in the same snapshot, the last position retention removed. */
export interface PageRead {
  purgedThrough: number;
  /** The feed's last position: no cursor a reader was given is past it. */
  last: number;
  events: LoggedEvent[];
  /** Events past the page's byte budget were left for the next page. */
  cut: boolean;
}

/**
 * The JSON a page carries at most, the first event whatever its size: an event may hold a whole
 * workflow (a megabyte of history), and 500 of them would be more than a process can hold.
 */
export const PAGE_BUDGET_BYTES = 4 * 1024 * 1024;

/** A read of the log by a consumer that keeps its own cursor: see `scan`. */
export interface ScanQuery {
  after: number;
  types: readonly string[];
  limit: number;
  /**
   * The dotted paths of `data` the consumer reads (`workflow.stage`): a scanned event's data
   * holds only the values found there, keyed by path.
   */
  paths: readonly string[];
}

export interface ScanRead {
  events: LoggedEvent[];
  /** How far the read covered: every event of the types after the cursor up to it is read. */
  through: number;
  /** The feed's last position, in the same snapshot. */
  end: number;
}

/** Where an event goes, without its content: what a consumer routing events needs. */
export interface EventHead {
  id: string;
  type: string;
  instanceId: string | null;
  sequence: number;
  occurredAt: Date;
}

export interface HeadRead {
  heads: EventHead[];
  /** As ScanRead's. */
  through: number;
  end: number;
}
