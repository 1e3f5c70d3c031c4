import type { ClientBase } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { SnakeNamingStrategy } from './snake-naming.strategy';

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
    synchronize: false,
    logging: false,
    extra: {
      max: poolSize,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: 30000,
      onConnect: listenForErrors,
    },
  };
}

const MIGRATION_LOCK = 0x4879_6472; // arbitrary constant shared by every replica

/** Runs pending migrations under an advisory lock, so replicas starting together take turns.
 * Needs a pool of at least two: one connection holds the lock while TypeORM migrates. */
export async function migrate(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const done = await dataSource.runMigrations({ transaction: 'each' });
    return done.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}
