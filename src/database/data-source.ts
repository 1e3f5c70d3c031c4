import { Client, type ClientBase } from 'pg';
import {
  AfterQueryEvent,
  DataSource,
  DataSourceOptions,
  EntitySubscriberInterface,
  EventSubscriber,
  MigrationExecutor,
} from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { noticeStatementError, usePreparedStatements } from './prepared';
import { SnakeNamingStrategy } from './snake-naming.strategy';
import { TYPE_PARSERS } from './timestamps';

/**
 * How long a request may wait for a pooled connection (a free one, or a new one being opened)
 * before it is answered 503. Short: when the database is away or the pool is exhausted, callers
 * are refused quickly and retry (or another replica serves them) instead of queueing for
 * connections that are not coming. A healthy wait is milliseconds.
 */
const CONNECT_TIMEOUT_MS = 2000;

/**
 * A server going down can deliver its FATAL in the same read as the ReadyForQuery that completes
 * a new connection: node-postgres then emits it as an 'error' event after the pool has lent the
 * client out (dropping the pool's listener) and before TypeORM attaches its own, one microtask
 * later. An 'error' event nobody hears kills the process, so every client gets a listener of its
 * own as it connects. It need do nothing more: the client is already marked broken, so its
 * borrower's next query fails with a connection error (a request answers 503) and the pool
 * destroys it on release. Errors at other times still reach the pool's and TypeORM's listeners.
 */
const listenForErrors = (client: ClientBase) => void client.on('error', () => undefined);

/** Every failed query's driver error goes past prepared.ts, which knows a pooler's signature. */
@EventSubscriber()
class StatementErrors implements EntitySubscriberInterface {
  afterQuery(event: AfterQueryEvent<unknown>): void {
    if (!event.success)
      noticeStatementError((event.error as { driverError?: unknown })?.driverError ?? event.error);
  }
}

/**
 * The one DataSource definition, shared by the app, the tests and the migration CLI. The
 * entities come from the caller (the app's list is src/entities.ts): this layer sits below the
 * domains and imports none of them. A DataSource that only runs migrations needs none.
 */
export function dataSourceOptions(
  url: string,
  poolSize = 10,
  entities: DataSourceOptions['entities'] = [],
): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    namingStrategy: new SnakeNamingStrategy(),
    subscribers: [StatementErrors],
    synchronize: false,
    logging: false,
    extra: {
      max: poolSize,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: 30000,
      onConnect: listenForErrors,
      types: TYPE_PARSERS,
    },
  };
}

/**
 * Whether this URL reaches PostgreSQL through a transaction-mode pooler: one client's two
 * statements answered by two server processes, or a second client's transaction answered by the
 * process the first client's last statement just left. Neither can happen on a direct
 * connection (or a session-mode pooler), whose session keeps one process.
 */
export async function behindTransactionPooler(url: string): Promise<boolean> {
  const clients = [0, 1].map(() => {
    // Bounded as the pool's connections are: a probe that cannot answer decides nothing.
    const client = new Client({
      connectionString: url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: CONNECT_TIMEOUT_MS,
    });
    client.on('error', () => undefined);
    return client;
  });
  const [a, b] = clients;
  const pid = async (client: Client) =>
    (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  try {
    await Promise.all(clients.map((client) => client.connect()));
    // Other clients of the pooler can take the process between our statements and hide it:
    // a few tries, of which one seeing it is proof (a direct connection can never show it).
    for (let attempt = 0; attempt < 3; attempt++) {
      const first = await pid(a);
      await b.query('BEGIN'); // holds its server connection while a asks again
      const other = await pid(b);
      const again = await pid(a);
      await b.query('COMMIT');
      if (other === first || again !== first) return true;
    }
    return false;
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  }
}

/**
 * Named prepared statements for this process, as configured, unless the runtime URL turns out
 * to be a transaction-mode pooler: then off, with one line saying so.
 */
export async function choosePreparedStatements(
  url: string,
  configured: boolean,
  log: (line: string) => void,
): Promise<boolean> {
  // A probe that cannot connect decides nothing: start-up fails or goes on as it would have,
  // and the first lost statement still turns them off (prepared.ts).
  const pooled = configured && (await behindTransactionPooler(url).catch(() => false));
  const on = configured && !pooled;
  if (configured && !on) {
    log(
      'DATABASE_URL goes through a transaction-mode pooler: prepared statements are off (set DB_PREPARED_STATEMENTS=false to skip this check)',
    );
  }
  usePreparedStatements(on);
  return on;
}

const MIGRATION_LOCK = 0x4879_6472; // arbitrary constant shared by every replica

/**
 * Runs `work` in one transaction holding a transaction-scoped advisory lock, so replicas
 * starting together take turns, and whoever comes second finds nothing pending (and runs no
 * GRANT or CREATE ROLE that would race the first: "tuple concurrently updated"). The lock ends
 * with the transaction, on the connection that took it: a session lock taken through a
 * transaction-mode pooler stays on a server connection the unlock may never reach, and every
 * later start waits on it forever. A transaction keeps its server connection even there.
 */
async function underMigrationLock<T>(
  dataSource: DataSource,
  work: (executor: MigrationExecutor) => Promise<T>,
): Promise<T> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.startTransaction();
    await runner.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    const executor = new MigrationExecutor(dataSource, runner);
    executor.transaction = 'all'; // ours, already open: the executor opens none of its own
    const result = await work(executor);
    await runner.commitTransaction();
    return result;
  } catch (error) {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    throw error;
  } finally {
    await runner.release();
  }
}

/** Applies the pending migrations, all or none; returns their names. */
export async function migrate(dataSource: DataSource): Promise<string[]> {
  const done = await underMigrationLock(dataSource, (executor) =>
    executor.executePendingMigrations(),
  );
  return done.map((m) => m.name);
}

/** Reverts the last applied migration; returns its name, or null when none was applied. */
export async function revertLastMigration(dataSource: DataSource): Promise<string | null> {
  return underMigrationLock(dataSource, async (executor) => {
    const names = async () => (await executor.getExecutedMigrations()).map((m) => m.name);
    const before = await names();
    await executor.undoLastMigration();
    const after = new Set(await names());
    return before.find((name) => !after.has(name)) ?? null;
  });
}
