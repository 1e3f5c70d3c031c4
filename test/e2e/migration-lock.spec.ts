import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { dataSourceOptions, migrate, revertLastMigration } from '../../src/database/data-source';
import { adminQuery, testServer, withDatabase } from '../setup/test-server';

/** A database as a new install has it: owned by the owner role, nothing migrated. */
async function freshDatabase(): Promise<string> {
  const server = testServer();
  const name = `hydracore_test_${process.env.JEST_WORKER_ID ?? 0}_${randomBytes(4).toString('hex')}`;
  const owner = new URL(server.ownerUrl).username;
  await adminQuery(`CREATE DATABASE ${name} OWNER "${owner}"`);
  return withDatabase(server.ownerUrl, name);
}

/** What a replica's start does: its own one-connection DataSource, migrated, then closed. */
async function migrateAsReplica(url: string): Promise<string[]> {
  const dataSource = await new DataSource(dataSourceOptions(url, 1)).initialize();
  try {
    return await migrate(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

async function applied(url: string): Promise<string[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      'SELECT name FROM schema_migrations ORDER BY id',
    );
    return rows.map((r) => r.name);
  } finally {
    await client.end();
  }
}

const ALL = MIGRATIONS.map((m) => new m().name);

describe('migrations on start', () => {
  it('three replicas migrating a new database at once: one applies each migration, none fails', async () => {
    const url = await freshDatabase();
    const runs = await Promise.all([0, 1, 2].map(() => migrateAsReplica(url)));
    // Whoever took the lock first applied everything; the others found nothing pending.
    expect(runs.map((names) => names.length).sort((a, b) => a - b)).toEqual([0, 0, ALL.length]);
    expect(await applied(url)).toEqual(ALL);
  });

  it('apply all or none: a run that fails leaves the database as it found it', async () => {
    const url = await freshDatabase();
    // A table the first migration creates, made beforehand: that migration fails.
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('CREATE TABLE worker_bindings (id int)');
      await expect(migrateAsReplica(url)).rejects.toThrow(/worker_bindings/);
      const { rows } = await client.query(
        `SELECT to_regclass('tenants') AS tenants, to_regclass('schema_migrations') AS log`,
      );
      expect(rows).toEqual([{ tenants: null, log: null }]);
    } finally {
      await client.end();
    }
  });

  it('revert undoes the last applied migration under the same lock; the next run reapplies it', async () => {
    const url = await freshDatabase();
    await migrateAsReplica(url);
    const dataSource = await new DataSource(dataSourceOptions(url, 1)).initialize();
    try {
      expect(await revertLastMigration(dataSource)).toBe(ALL[ALL.length - 1]);
      expect(await applied(url)).toEqual(ALL.slice(0, -1));
    } finally {
      await dataSource.destroy();
    }
    expect(await migrateAsReplica(url)).toEqual([ALL[ALL.length - 1]]);
    expect(await applied(url)).toEqual(ALL);
  });
});
