import { getHeapStatistics } from 'node:v8';
import { COUNTED_ROW_BYTES, DEEP_WALK_ROWS, WALKED_ROW_BYTES } from '../common/list';
import { tenantOverloaded } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { ResponseMemory } from './response-memory';
import { TenantGate } from './tenant-gate';
import { TenantPace } from './tenant-pace';

/**
 * Large documents in flight at once: a fifth of this process's heap limit (about 100 MiB under
 * start:prod's 512 MB), since one costs two to three times its size while it is read, spliced
 * and sent.
 */
const RESPONSE_MEMORY_BYTES = Math.floor(getHeapStatistics().heap_size_limit / 5);
/** A tenant at rest may draw this much at once, the largest page allowed included. */
const DOCUMENT_BURST_BYTES = 32 * 1024 * 1024;

/** The raw HTTP response: whether it has closed, and the event when it does. */
export interface ClosingResponse {
  closed: boolean;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * What a tenant's requests may hold at once and how fast they may draw, per replica: its share
 * of the pool, its pace, and its turns for large responses and large bodies. Each of these
 * makes a tenant's heavy work queue behind its own, not behind everyone's. TenantDb admits a
 * request's transaction here before it takes a connection.
 */
export class TenantAdmission {
  /** Each tenant's share of the pool: one tenant's burst queues behind itself. */
  readonly gate: TenantGate;
  /** The process's room for large responses: see holdForResponse. */
  readonly responseMemory: ResponseMemory;
  /** One large response of a tenant at a time. */
  private readonly largeResponses: TenantGate;
  /** One request with a large body of a tenant at a time. */
  private readonly largeBodies: TenantGate;
  /** One deep page of a tenant at a time: see walk. */
  private readonly walks: TenantGate;
  private readonly pace: TenantPace;
  private readonly maxWaitMs: number;

  constructor(config: AppConfig) {
    // A queued request waits about as long as one statement may run, then is told to retry.
    this.maxWaitMs = config.dbStatementTimeoutMs;
    this.gate = new TenantGate(config.dbTenantMaxConnections, this.maxWaitMs);
    this.responseMemory = new ResponseMemory(RESPONSE_MEMORY_BYTES, this.maxWaitMs);
    this.largeResponses = new TenantGate(1, this.maxWaitMs);
    this.largeBodies = new TenantGate(1, this.maxWaitMs);
    this.walks = new TenantGate(1, this.maxWaitMs);
    this.pace = new TenantPace(config.tenantDocumentBytesPerSecond, DOCUMENT_BURST_BYTES);
  }

  /**
   * The tenant's place in its share, then its pace: a tenant past its pace waits, inside its
   * share so that its requests pay their debt one after another rather than all at once, and
   * before taking a connection. One too far past it is still held as long as a request may wait
   * before being told to retry: answered at once, a refusal would be retried at once, and a
   * flood of refusals costs the process as much. Pair every success with one `leave`.
   */
  async enter(tenantId: string): Promise<void> {
    await this.gate.enter(tenantId);
    const debt = this.pace.debtMs(tenantId);
    if (debt === 0) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(debt, this.maxWaitMs)));
    if (debt > this.maxWaitMs) {
      this.gate.leave(tenantId);
      throw tenantOverloaded();
    }
  }

  leave(tenantId: string): void {
    this.gate.leave(tenantId);
  }

  /** Charges a request's documents to its tenant's pace (see TenantPace). */
  chargeDocuments(tenantId: string, bytes: number): void {
    if (bytes > 0) this.pace.charge(tenantId, bytes);
  }

  /**
   * Charges rows a list read to reach its page to its tenant's pace: a page deep in a list
   * costs the database every row before it, whatever the page holds.
   */
  chargeWalk(tenantId: string, rows: number): void {
    this.chargeDocuments(tenantId, rows * WALKED_ROW_BYTES);
  }

  /** Charges rows counted for a list's total, where no counter keeps it. */
  chargeCount(tenantId: string, rows: number): void {
    this.chargeDocuments(tenantId, rows * COUNTED_ROW_BYTES);
  }

  /**
   * `work`, the statements of a list page `offset` rows in. Past DEEP_WALK_ROWS it waits for
   * the tenant's other such pages, and holds its turn while the statements run: admitted
   * together within the tenant's burst, deep pages took every core the database has at once.
   * It waits inside its transaction, so the tenant's other requests may queue behind its deep
   * pages for connections, within its own share. One that fails (cut short by its statement timeout) is charged its offset, since it may
   * have read that far; one that succeeds is charged by its caller, who knows the total.
   */
  async walk<T>(tenantId: string, offset: number, work: () => Promise<T>): Promise<T> {
    const deep = offset >= DEEP_WALK_ROWS;
    if (deep) await this.walks.enter(tenantId);
    try {
      return await work();
    } catch (error) {
      this.chargeWalk(tenantId, offset);
      throw error;
    } finally {
      if (deep) this.walks.leave(tenantId);
    }
  }

  /**
   * Waits until the tenant has no other large response under way and `bytes` of large documents
   * fit in the process's budget, and holds both until `response` is closed (sent, failed or
   * abandoned). A large response costs the process far more than a small one (reading, sending
   * and collecting megabytes), so a tenant's large reads take turns: they slow that tenant, not
   * everyone.
   */
  async holdForResponse(tenantId: string, response: ClosingResponse, bytes: number) {
    await this.largeResponses.enter(tenantId);
    let release: () => void;
    try {
      release = await this.responseMemory.reserve(bytes);
    } catch (error) {
      this.largeResponses.leave(tenantId);
      throw error;
    }
    whenClosed(response, () => {
      release();
      this.largeResponses.leave(tenantId);
    });
  }

  /**
   * Waits until the tenant has no other request with a large body under way, and holds its
   * turn until `response` is closed. Parsing and checking a body of a megabyte holds the event
   * loop for tens of milliseconds, so a tenant sending many at once would hold every other
   * tenant's requests behind them; taking turns, it holds them behind one at most.
   */
  async holdForLargeBody(tenantId: string, response: ClosingResponse): Promise<void> {
    await this.largeBodies.enter(tenantId);
    whenClosed(response, () => this.largeBodies.leave(tenantId));
  }
}

function whenClosed(response: ClosingResponse, done: () => void): void {
  // A client gone while this waited has closed its response already: no 'close' is to come.
  if (response.closed) done();
  else response.once('close', done);
}
