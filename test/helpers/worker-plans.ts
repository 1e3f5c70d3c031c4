import { TenantDb } from '../../src/database/tenant-db';
import { TestApp } from './app';

/**
 * The plan of every cross-tenant read of `table` that `look` makes, explained as it runs: the
 * same statement, as the same role, with the same settings (the reads themselves are not made).
 * Reads of other tables are let through: they are the app's own background work meanwhile.
 */
export async function workerPlans(
  t: TestApp,
  table: string,
  look: () => Promise<unknown>,
): Promise<string[]> {
  const db = t.app.get(TenantDb);
  const asWorker = db.asWorker.bind(db);
  const plans: string[] = [];
  const spy = jest.spyOn(db, 'asWorker').mockImplementation(async (sql, ...how) => {
    if (!new RegExp(`\\bFROM ${table}\\b`).test(sql)) return asWorker(sql, ...how);
    const [row] = await asWorker<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, ...how);
    plans.push(JSON.stringify(row['QUERY PLAN']));
    return [];
  });
  try {
    await look();
  } finally {
    spy.mockRestore();
  }
  return plans;
}
