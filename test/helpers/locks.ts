import type { TestApp } from './app';

/** Polls `check` every 20 ms for up to 2 s. */
export async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('condition not reached in 2 s');
}

/** Backends of the test database waiting for a lock. */
export async function lockWaiters(t: TestApp): Promise<number> {
  const { rows } = await t.raw.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock'`,
  );
  return rows[0].n;
}

/**
 * Runs `sql` (a row lock) in a transaction of its own and holds it: `release` rolls it back.
 * What requests do while it is held, and in what order they go on, is then up to the test.
 */
export async function holdLock(t: TestApp, sql: string, params: unknown[] = []) {
  const client = await t.raw.connect();
  await client.query('BEGIN');
  await client.query(sql, params);
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    await client.query('ROLLBACK');
    client.release();
  };
}
