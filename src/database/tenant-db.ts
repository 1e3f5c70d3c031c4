import { Inject, Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { DataSource, EntityManager, QueryRunner, QueryRunnerAlreadyReleasedError } from 'typeorm';
import { isConnectionError } from '../common/connection-errors';
import { commitOutcomeUnknown, databaseUnavailable } from '../common/errors';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { SuspendedTenants } from './suspended-tenants';
import { ClosingResponse, TenantAdmission } from './tenant-admission';
import { UUID, enterTenant, timeouts } from './tenant-sql';

const MANAGER = 'hydracore:tenant-manager';
const RESPONSE = 'hydracore:response';
const TENANT = 'hydracore:tenant';

/** How old the list of suspended tenants the background jobs skip may be. */
const SUSPENSION_READ_MS = 1000;

const AS_WORKER = `SELECT set_config('role', 'hydracore_worker', true)`;
const AS_WORKER_OVER_INDEXES = `SELECT set_config('role', 'hydracore_worker', true),
  set_config('enable_seqscan', 'off', true), set_config('max_parallel_workers_per_gather', '0', true)`;

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
  /** Each tenant's share of the pool, pace and turns: see TenantAdmission. */
  readonly admission: TenantAdmission;

  constructor(
    private readonly cls: ClsService,
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.limits = timeouts(config);
    this.admission = new TenantAdmission(config);
  }

  /**
   * TenantAdmission.holdForResponse for the current request's tenant and response. Outside a
   * request there is no response to wait for, and nothing is held.
   */
  async holdForResponse(bytes: number): Promise<void> {
    const active = this.cls.isActive();
    const response = active ? this.cls.get<ClosingResponse | undefined>(RESPONSE) : undefined;
    const tenantId = active ? this.cls.get<string | undefined>(TENANT) : undefined;
    if (response && tenantId) await this.admission.holdForResponse(tenantId, response, bytes);
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
   * Opens a transaction bound to `tenantId`; the caller must finish it with `end`. A request's
   * transaction is `admitted` within its tenant's share and pace; the platform's own work for a
   * tenant (background jobs, one connection at a time) is not, so one tenant's load never
   * holds up every tenant's expiries and deliveries.
   */
  async begin(tenantId: string, admitted = true, check?: CallerCheck): Promise<QueryRunner> {
    if (!UUID.test(tenantId)) throw new Error('tenant id is not a lower-case UUID');
    if (admitted) await this.admission.enter(tenantId);
    const runner = this.dataSource.createQueryRunner() as Runner;
    if (admitted) this.tenantOf.set(runner, tenantId);
    let checked: unknown[] = [];
    try {
      await runner.connect();
      // Through pg's client, as the COMMIT in `end`: TypeORM's `query` adds four awaits, its
      // events and a result object to each, for statements whose result is not read.
      const entered = enterTenant(tenantId, this.limits);
      const results = await runner.databaseConnection.query(
        check ? `${entered}; ${check.sql}` : entered,
      );
      if (check) checked = results[results.length - 1].rows;
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
      if (tenantId) this.admission.leave(tenantId);
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
      // TypeORM's own check: a released runner's client may be another request's by now.
      if (r.isReleased) throw new QueryRunnerAlreadyReleasedError();
      await r.databaseConnection.query(ok ? 'COMMIT' : 'ROLLBACK');
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
    await this.admission.gate.enter(tenantId);
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
