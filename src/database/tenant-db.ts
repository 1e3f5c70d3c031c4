import { getHeapStatistics } from 'node:v8';
import { Inject, Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { isConnectionError } from '../common/connection-errors';
import { WALKED_ROW_BYTES } from '../common/list';
import { commitOutcomeUnknown, databaseUnavailable, tenantOverloaded } from '../common/errors';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ResponseMemory } from './response-memory';
import { SuspendedTenants } from './suspended-tenants';
import { TenantGate } from './tenant-gate';
import { TenantPace } from './tenant-pace';
import { UUID, enterTenant, timeouts } from './tenant-sql';

const MANAGER = 'hydracore:tenant-manager';
const RESPONSE = 'hydracore:response';
const TENANT = 'hydracore:tenant';

/**
 * Large documents in flight at once: a fifth of this process's heap limit (about 100 MiB under
 * start:prod's 512 MB), since one costs two to three times its size while it is read, spliced
 * and sent.
 */
const RESPONSE_MEMORY_BYTES = Math.floor(getHeapStatistics().heap_size_limit / 5);
/** A tenant at rest may draw this much at once, the largest page allowed included. */
const DOCUMENT_BURST_BYTES = 32 * 1024 * 1024;
/** How old the list of suspended tenants the background jobs skip may be. */
const SUSPENSION_READ_MS = 1000;

const AS_WORKER = `SELECT set_config('role', 'hydracore_worker', true)`;
const AS_WORKER_OVER_INDEXES = `SELECT set_config('role', 'hydracore_worker', true),
  set_config('enable_seqscan', 'off', true), set_config('max_parallel_workers_per_gather', '0', true)`;

/** The raw HTTP response: whether it has closed, and the event when it does. */
export interface ClosingResponse {
  closed: boolean;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * A statement about the caller that the request's transaction runs with its BEGIN, in the same
 * round trip, and what to make of its rows: `judge` throws to refuse the request (its
 * transaction then rolls back before anything else runs). For a credential this replica has
 * already looked up once: what may have changed since (revoked, expired, the tenant
 * suspended) is read again in the transaction the request works in.
 */
export interface CallerCheck {
  /** Simple protocol: no parameters, values inlined through `sqlLiteral`. */
  sql: string;
  judge(rows: unknown[]): void;
}

/** PostgresQueryRunner: `releasePostgresConnection(error)` hands a client back to pg's pool with
 * an error, which makes the pool destroy it rather than lend it to the next request. */
type Runner = QueryRunner & {
  isTransactionActive: boolean;
  transactionDepth: number;
  databaseConnection: { query(sql: string): Promise<{ rows: unknown[] }[]> };
  releasePostgresConnection(error?: unknown): Promise<void>;
};

/**
 * The only door to tenant data. Repositories read `manager`, which exists only inside a tenant
 * transaction; outside one it throws instead of quietly falling back to the pool.
 */
@Injectable()
export class TenantDb {
  private readonly limits: string;
  /** Each tenant's share of the pool: one tenant's burst queues behind itself. */
  readonly gate: TenantGate;
  /** The process's room for large responses: see holdForResponse. */
  readonly responseMemory: ResponseMemory;
  /** One large response of a tenant at a time. */
  private readonly largeResponses: TenantGate;
  /** One request with a large body of a tenant at a time. */
  private readonly largeBodies: TenantGate;
  private readonly pace: TenantPace;
  private readonly maxWaitMs: number;

  constructor(
    private readonly cls: ClsService,
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.limits = timeouts(config);
    // A queued request waits about as long as one statement may run, then is told to retry.
    this.gate = new TenantGate(config.dbTenantMaxConnections, config.dbStatementTimeoutMs);
    this.responseMemory = new ResponseMemory(RESPONSE_MEMORY_BYTES, config.dbStatementTimeoutMs);
    this.largeResponses = new TenantGate(1, config.dbStatementTimeoutMs);
    this.largeBodies = new TenantGate(1, config.dbStatementTimeoutMs);
    this.pace = new TenantPace(config.tenantDocumentBytesPerSecond, DOCUMENT_BURST_BYTES);
    this.maxWaitMs = config.dbStatementTimeoutMs;
  }

  /**
   * Waits until the tenant has no other large response under way and `bytes` of large documents
   * fit in the process's budget, and holds both until the current request's response is closed
   * (sent, failed or abandoned). A large response costs the process far more than a small one
   * (reading, sending and collecting megabytes), so a tenant's large reads take turns: they slow
   * that tenant, not everyone. Outside a request there is no response to wait for, and nothing is
   * held.
   */
  async holdForResponse(bytes: number): Promise<void> {
    const active = this.cls.isActive();
    const response = active ? this.cls.get<ClosingResponse | undefined>(RESPONSE) : undefined;
    const tenantId = active ? this.cls.get<string | undefined>(TENANT) : undefined;
    if (!response || !tenantId) return;
    await this.largeResponses.enter(tenantId);
    let release: () => void;
    try {
      release = await this.responseMemory.reserve(bytes);
    } catch (error) {
      this.largeResponses.leave(tenantId);
      throw error;
    }
    this.whenClosed(response, () => {
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
    this.whenClosed(response, () => this.largeBodies.leave(tenantId));
  }

  private whenClosed(response: ClosingResponse, done: () => void): void {
    // A client gone while this waited has closed its response already: no 'close' is to come.
    if (response.closed) done();
    else response.once('close', done);
  }

  get manager(): EntityManager {
    const manager = this.cls.isActive()
      ? this.cls.get<EntityManager | undefined>(MANAGER)
      : undefined;
    if (!manager)
      throw new Error('No tenant transaction in context: tenant data is read only inside one');
    return manager;
  }

  /**
   * A tenant past its pace waits, inside its share so that its requests pay their debt one
   * after another rather than all at once, and before taking a connection. One too far past it
   * is still held as long as a request may wait before being told to retry: answered at once,
   * a refusal would be retried at once, and a flood of refusals costs the process as much.
   */
  private async awaitPace(tenantId: string): Promise<void> {
    const debt = this.pace.debtMs(tenantId);
    if (debt === 0) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(debt, this.maxWaitMs)));
    if (debt > this.maxWaitMs) {
      this.gate.leave(tenantId);
      throw tenantOverloaded();
    }
  }

  /** Charges a request's documents to its tenant's pace (see TenantPace). */
  chargeDocuments(tenantId: string, bytes: number): void {
    if (bytes > 0) this.pace.charge(tenantId, bytes);
  }

  /**
   * Charges rows a request's statements walked without returning them to its tenant's pace: a
   * page deep in a list costs the database every row before it, whatever the page holds.
   */
  chargeWalk(tenantId: string, rows: number): void {
    this.chargeDocuments(tenantId, rows * WALKED_ROW_BYTES);
  }

  /**
   * Opens a transaction bound to `tenantId`; the caller must finish it with `end`. A request's
   * transaction is `admitted` within its tenant's share and pace; the platform's own work for a
   * tenant (background jobs, one connection at a time) is not, so one tenant's load never
   * holds up every tenant's expiries and deliveries.
   */
  async begin(tenantId: string, admitted = true, check?: CallerCheck): Promise<QueryRunner> {
    if (!UUID.test(tenantId)) throw new Error('tenant id is not a lower-case UUID');
    if (admitted) {
      await this.gate.enter(tenantId);
      await this.awaitPace(tenantId);
    }
    const runner = this.dataSource.createQueryRunner() as Runner;
    if (admitted) this.tenantOf.set(runner, tenantId);
    let checked: unknown[] = [];
    try {
      await runner.connect();
      if (check) {
        const results = await runner.databaseConnection.query(
          `${enterTenant(tenantId, this.limits)}; ${check.sql}`,
        );
        checked = results[results.length - 1].rows;
      } else await runner.query(enterTenant(tenantId, this.limits));
      // TypeORM must know it is inside a transaction, or an operation could open its own; at
      // depth 1 a nested manager.transaction() takes a savepoint instead of committing ours.
      runner.isTransactionActive = true;
      runner.transactionDepth = 1;
    } catch (error) {
      // The connection may be dead, or inside the BEGIN that a failed statement aborted.
      await this.release(runner, error);
      throw error;
    }
    if (check) {
      try {
        check.judge(checked);
      } catch (error) {
        await this.end(runner, false);
        throw error;
      }
    }
    return runner;
  }

  /**
   * `check` on its own, in a transaction of its own: for a request that has no transaction for
   * the whole of it (`read`), or that is to be refused, or to read a large body, before it
   * takes one.
   */
  async checkCaller(tenantId: string, check: CallerCheck): Promise<void> {
    check.judge(await this.readOnce(tenantId, check.sql));
  }

  private readonly tenantOf = new WeakMap<QueryRunner, string>();

  /** Back to the pool (destroyed when `error` is given), and the tenant's place in the gate. */
  private async release(runner: Runner, error?: unknown): Promise<void> {
    const tenantId = this.tenantOf.get(runner);
    this.tenantOf.delete(runner);
    try {
      await runner.releasePostgresConnection(error);
    } finally {
      if (tenantId) this.gate.leave(tenantId);
    }
  }

  /**
   * Commits (`ok`) or rolls back, then releases the connection; one whose COMMIT or ROLLBACK
   * failed is released with the error, so the pool destroys it. `changes: false` says the work
   * meant to change nothing (a GET), so a lost COMMIT is no news to its caller.
   */
  async end(runner: QueryRunner, ok: boolean, changes = true): Promise<void> {
    const r = runner as Runner;
    const committed = this.onCommit.get(r) ?? [];
    this.onCommit.delete(r);
    try {
      await r.query(ok ? 'COMMIT' : 'ROLLBACK');
    } catch (error) {
      r.isTransactionActive = false;
      r.transactionDepth = 0;
      // The connection failed: TypeORM may have released the runner already, or the COMMIT
      // itself met the broken socket (which of the two comes first is a race between pg's
      // events). Before a COMMIT the server rolls back; during one, whether it committed is
      // unknown, and the client must be told so rather than invited to retry.
      const lost = r.isReleased || isConnectionError(error);
      await this.release(r, error);
      if (lost) throw ok && changes ? commitOutcomeUnknown() : databaseUnavailable();
      if (ok) throw error;
      return; // a failed ROLLBACK is not reported: the request is failing with its own error
    }
    r.isTransactionActive = false;
    r.transactionDepth = 0;
    await this.release(r); // pg's part is a no-op if TypeORM released it after the COMMIT
    if (ok) for (const then of committed) then();
  }

  private readonly onCommit = new WeakMap<QueryRunner, (() => void)[]>();

  /**
   * Calls `then` once the current tenant transaction has committed, never if it rolls back: for
   * telling another worker in this process of work that only a commit makes visible to it.
   * `then` must not throw.
   */
  afterCommit(then: () => void): void {
    const runner = this.manager.queryRunner;
    if (!runner) throw new Error('No tenant transaction in context');
    const list = this.onCommit.get(runner) ?? [];
    list.push(then);
    this.onCommit.set(runner, list);
  }

  /**
   * `work` inside a savepoint of the current tenant transaction: if it fails, what it did is
   * rolled back, and so are the afterCommit calls it asked for (they announce work that will
   * now never commit), while the transaction goes on.
   */
  async savepoint<T>(work: () => Promise<T>): Promise<T> {
    const runner = this.manager.queryRunner;
    if (!runner) throw new Error('No tenant transaction in context');
    const asked = this.onCommit.get(runner)?.length ?? 0;
    try {
      return await this.manager.transaction(() => work());
    } catch (error) {
      const list = this.onCommit.get(runner);
      if (list) list.length = asked;
      throw error;
    }
  }

  /**
   * Makes `runner`'s manager the current one for everything `work` calls, and `response` (the
   * raw HTTP response of a request) the one whose end frees what holdForResponse held.
   */
  bind<T>(runner: QueryRunner, work: () => T, response?: NodeJS.EventEmitter): T {
    return this.cls.run(() => {
      this.cls.set(MANAGER, runner.manager);
      this.cls.set(TENANT, this.tenantOf.get(runner));
      if (response) this.cls.set(RESPONSE, response);
      return work();
    });
  }

  /**
   * Ids of every tenant, for background jobs that then work tenant by tenant through `run`.
   * Read as hydracore_worker, whose policy on tenants shows their ids and nothing else.
   */
  async tenantIds(): Promise<string[]> {
    const rows = await this.asWorker<{ id: string }>('SELECT id FROM tenants ORDER BY id');
    return rows.map((r) => r.id);
  }

  /** Tenants suspended, as read at most a second ago: the background jobs pass them over. */
  readonly suspensions = new SuspendedTenants(
    () =>
      this.asWorker<{ id: string }>(`SELECT id FROM tenants WHERE status <> 'active'`).then(
        (rows) => rows.map((r) => r.id),
      ),
    SUSPENSION_READ_MS,
  );

  /**
   * A read outside any tenant as hydracore_worker: the role of the platform's scans across
   * tenants, which sees only what a policy of its own shows (tenant ids; events waiting for a
   * feed position) and nothing of any tenant's data.
   *
   * `overIndexes` is for a look whose policies match partial indexes of the rows with work,
   * which the planner cannot see is cheap: tenant_isolation applies to every role, so its
   * `tenant_id = <no tenant>` is OR'd into the worker's policies and estimated at a whole
   * tenant's rows, and a policy comparing two columns (due_announced_for IS DISTINCT FROM
   * next_action_at) is estimated true for 99.5% of rows whatever the data. With enough rows
   * whose time came and was dealt with, it then reads the whole table (in parallel) every
   * second. Without sequential scans it reads the partial indexes, and the primary key for
   * the tenant arm, which holds nothing outside a tenant; parallel workers would take longer
   * to start than such a look takes.
   */
  async asWorker<T>(sql: string, { overIndexes = false } = {}): Promise<T[]> {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      await runner.startTransaction();
      await runner.query(overIndexes ? AS_WORKER_OVER_INDEXES : AS_WORKER);
      const rows = (await runner.query(sql)) as T[];
      await runner.commitTransaction();
      return rows;
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      await runner.release();
    }
  }

  /**
   * A whole unit of work in one tenant transaction: the platform's own (background jobs, platform
   * calls), outside the tenant's share and pace.
   */
  run<T>(tenantId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.within(tenantId, false, true, work);
  }

  /**
   * A read of a request in a transaction of its own, admitted like the request's would be: for
   * a request that must not hold a connection from start to end, such as a long poll.
   */
  read<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    return this.within(tenantId, true, false, work);
  }

  private async within<T>(
    tenantId: string,
    admitted: boolean,
    changes: boolean,
    work: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    const runner = await this.begin(tenantId, admitted);
    let ok = false;
    try {
      const result = await this.bind(runner, () => work(runner.manager));
      ok = true;
      return result;
    } finally {
      await this.end(runner, ok, changes);
    }
  }

  /**
   * One read in a tenant transaction of its own, in one round trip: BEGIN with the settings, the
   * statement and COMMIT travel as one simple-protocol query. For the credential lookup that
   * precedes every request made with a key, where `run` would take three round trips. `sql`
   * takes no parameters: values go in through `sqlLiteral`. Any failure, a lost connection
   * included, reaches the caller as it is (a connection error answers 503) and the connection,
   * perhaps left inside the transaction, is destroyed rather than pooled.
   */
  async readOnce<T>(tenantId: string, sql: string): Promise<T[]> {
    if (!UUID.test(tenantId)) throw new Error('tenant id is not a lower-case UUID');
    await this.gate.enter(tenantId);
    const runner = this.dataSource.createQueryRunner() as Runner;
    this.tenantOf.set(runner, tenantId);
    let results: { rows: unknown[] }[];
    try {
      await runner.connect();
      results = await runner.databaseConnection.query(
        `${enterTenant(tenantId, this.limits)}; ${sql}; COMMIT`,
      );
    } catch (error) {
      await this.release(runner, error);
      throw error;
    }
    await this.release(runner);
    return results[results.length - 2].rows as T[]; // before COMMIT's
  }
}
