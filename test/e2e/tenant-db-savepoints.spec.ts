import { TenantDb } from '../../src/database/tenant-db';
import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

describe('TenantDb savepoints', () => {
  let t: TestApp;
  let a: TenantSession;
  beforeAll(async () => {
    t = await startTestApp();
    a = await TenantSession.create(t);
  });
  afterAll(() => t.close());

  it('takes back what a failed savepoint did, its after-commit calls included', async () => {
    const db = t.app.get(TenantDb);
    const called: string[] = [];
    const name = (label: string) => `Savepoint ${label} ${a.tenantId.slice(0, 8)}`;
    await db.run(a.tenantId, async (m) => {
      const insert = (label: string) =>
        m.query('INSERT INTO customers (tenant_id, name) VALUES ($1, $2)', [
          a.tenantId,
          name(label),
        ]);
      db.afterCommit(() => called.push('before'));
      await expect(
        db.savepoint(async () => {
          await insert('failed');
          db.afterCommit(() => called.push('failed'));
          throw new Error('the savepoint fails');
        }),
      ).rejects.toThrow('the savepoint fails');
      await db.savepoint(async () => {
        await insert('kept');
        db.afterCommit(() => called.push('kept'));
      });
    });
    // Before, the failed savepoint's call ran too, announcing work that never committed.
    expect(called).toEqual(['before', 'kept']);
    const { rows } = await t.raw.query(
      `SELECT name FROM customers WHERE tenant_id = $1 AND name LIKE 'Savepoint %' ORDER BY name`,
      [a.tenantId],
    );
    expect(rows).toEqual([{ name: name('kept') }]);
  });
});
