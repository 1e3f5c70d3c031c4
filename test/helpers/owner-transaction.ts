import type { PoolClient } from 'pg';
import type { QueryRunner } from 'typeorm';
import type { TestApp } from './app';

/**
 * `work` as the tables' owner, the role migrations run as, in a transaction of its own that
 * ends as `outcome` says: `rollback` to try a migration's step and look at what it did without
 * keeping it. `runner` is the QueryRunner a migration's `up` or `down` takes.
 */
export async function inOwnerTransaction(
  t: TestApp,
  outcome: 'commit' | 'rollback',
  work: (owner: PoolClient, runner: QueryRunner) => Promise<void>,
): Promise<void> {
  const owner = await t.owner.connect();
  const runner = { query: (sql: string) => owner.query(sql) } as unknown as QueryRunner;
  let done = false;
  try {
    await owner.query('BEGIN');
    await work(owner, runner);
    if (outcome === 'commit') await owner.query('COMMIT');
    done = outcome === 'commit';
  } finally {
    if (!done) await owner.query('ROLLBACK');
    owner.release();
  }
}
