import { Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { commitOutcomeUnknown, databaseUnavailable } from '../common/errors';

const MANAGER = 'hydracore:tenant-manager';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Requests run as hydracore_app inside one transaction whose app.tenant_id is set with BEGIN,
 * in one round trip (a simple-protocol query: the id is inlined, and only ever a checked UUID).
 * Both settings are transaction-local, so a pooled connection carries nothing to its next user.
 */
const enterTenant = (tenantId: string) =>
  `BEGIN; SELECT set_config('app.tenant_id', '${tenantId}', true), set_config('role', 'hydracore_app', true)`;

/** What may be written into SQL as it is: UUIDs and hex digests need no quoting or escaping. */
const PLAIN = /^[0-9a-f-]{1,128}$/;

/** A UUID or a hex digest as a SQL literal, for `readOnce` (simple protocol has no parameters). */
export function sqlLiteral(value: string, type: 'uuid' | 'bytea'): string {
  if (!PLAIN.test(value)) throw new Error('only UUIDs and hex digests are written into SQL');
  return type === 'uuid' ? `'${value}'::uuid` : `'\\x${value}'::bytea`;
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
  constructor(
    private readonly cls: ClsService,
    private readonly dataSource: DataSource,
  ) {}

  get manager(): EntityManager {
    const manager = this.cls.isActive()
      ? this.cls.get<EntityManager | undefined>(MANAGER)
      : undefined;
    if (!manager)
      throw new Error('No tenant transaction in context: tenant data is read only inside one');
    return manager;
  }

  /** Opens a transaction bound to `tenantId`; the caller must finish it with `end`. */
  async begin(tenantId: string): Promise<QueryRunner> {
    if (!UUID.test(tenantId)) throw new Error('tenant id is not a lower-case UUID');
    const runner = this.dataSource.createQueryRunner() as Runner;
    try {
      await runner.connect();
      await runner.query(enterTenant(tenantId));
      // TypeORM must know it is inside a transaction, or an operation could open its own; at
      // depth 1 a nested manager.transaction() takes a savepoint instead of committing ours.
      runner.isTransactionActive = true;
      runner.transactionDepth = 1;
    } catch (error) {
      // The connection may be dead, or inside the BEGIN that a failed statement aborted.
      await runner.releasePostgresConnection(error);
      throw error;
    }
    return runner;
  }

  /**
   * Commits (`ok`) or rolls back, then releases the connection; one whose COMMIT or ROLLBACK
   * failed is released with the error, so the pool destroys it. `changes: false` says the work
   * meant to change nothing (a GET), so a lost COMMIT is no news to its caller.
   */
  async end(runner: QueryRunner, ok: boolean, changes = true): Promise<void> {
    const r = runner as Runner;
    try {
      await r.query(ok ? 'COMMIT' : 'ROLLBACK');
    } catch (error) {
      r.isTransactionActive = false;
      r.transactionDepth = 0;
      // TypeORM releases a runner by itself the moment its connection fails, so COMMIT or
      // ROLLBACK found it released. Before a COMMIT the server rolls back; during one, whether
      // it committed is unknown, and the client must be told so rather than invited to retry.
      const lost = r.isReleased;
      await r.releasePostgresConnection(error);
      if (lost) throw ok && changes ? commitOutcomeUnknown() : databaseUnavailable();
      if (ok) throw error;
      return; // a failed ROLLBACK is not reported: the request is failing with its own error
    }
    r.isTransactionActive = false;
    r.transactionDepth = 0;
    await r.releasePostgresConnection(); // a no-op if TypeORM released it after the COMMIT
  }

  /** Makes `runner`'s manager the current one for everything `work` calls. */
  bind<T>(runner: QueryRunner, work: () => T): T {
    return this.cls.run(() => {
      this.cls.set(MANAGER, runner.manager);
      return work();
    });
  }

  /**
   * Ids of every tenant, for background jobs that then work tenant by tenant through `run`.
   * Read as hydracore_worker, whose one policy shows tenant ids and nothing else.
   */
  async tenantIds(): Promise<string[]> {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      await runner.startTransaction();
      await runner.query(`SELECT set_config('role', 'hydracore_worker', true)`);
      const rows = (await runner.query('SELECT id FROM tenants ORDER BY id')) as { id: string }[];
      await runner.commitTransaction();
      return rows.map((r) => r.id);
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      await runner.release();
    }
  }

  /**
   * A whole unit of work in one tenant transaction (guards, platform calls, background jobs).
   */
  async run<T>(tenantId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const runner = await this.begin(tenantId);
    let ok = false;
    try {
      const result = await this.bind(runner, () => work(runner.manager));
      ok = true;
      return result;
    } finally {
      await this.end(runner, ok);
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
    const runner = this.dataSource.createQueryRunner() as Runner;
    let results: { rows: unknown[] }[];
    try {
      await runner.connect();
      results = await runner.databaseConnection.query(`${enterTenant(tenantId)}; ${sql}; COMMIT`);
    } catch (error) {
      await runner.releasePostgresConnection(error);
      throw error;
    }
    await runner.releasePostgresConnection();
    return results[results.length - 2].rows as T[]; // before COMMIT's
  }
}
