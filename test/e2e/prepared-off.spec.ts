import { DataSource } from 'typeorm';
import { behindTransactionPooler } from '../../src/database/data-source';
import { prepared, preparedStatementsOn } from '../../src/database/prepared';
import { TestApp, startTestApp } from '../helpers/app';

const ours = `SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'hc\\_%'`;

describe('prepared statements switched off (transaction-mode poolers)', () => {
  describe('DB_PREPARED_STATEMENTS=false', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ DB_PREPARED_STATEMENTS: 'false' });
    });
    afterAll(() => t.close());

    it('runs hot statements unnamed: no connection holds one of ours', async () => {
      const runner = t.app.get(DataSource).createQueryRunner();
      try {
        const statement = prepared('SELECT $1::int + $1::int AS twice');
        expect(await runner.query(statement, [21])).toEqual([{ twice: 42 }]);
        expect(await runner.query(statement, [2])).toEqual([{ twice: 4 }]);
        expect(await runner.query(ours)).toEqual([{ n: 0 }]);
      } finally {
        await runner.release();
      }
      expect((await t.http().get('/readyz')).status).toBe(200);
    });
  });

  describe('left on, when a statement is lost under it', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp();
    });
    afterAll(() => t.close());

    it('a direct connection is not taken for a pooler, so they stay on', async () => {
      expect(await behindTransactionPooler(t.databaseUrl)).toBe(false);
      expect(preparedStatementsOn()).toBe(true);
    });

    it('the first "does not exist" turns them off for good; the queries after it work', async () => {
      const runner = t.app.get(DataSource).createQueryRunner();
      try {
        const statement = prepared('SELECT $1::int + 100 AS more');
        expect(await runner.query(statement, [1])).toEqual([{ more: 101 }]);
        // What a pooler does to a client: its next query reaches a server that never parsed it.
        await runner.query('DEALLOCATE ALL');
        await expect(runner.query(statement, [2])).rejects.toMatchObject({
          driverError: { code: '26000', message: expect.stringMatching(/"hc_[0-9a-f]{24}"/) },
        });
        expect(preparedStatementsOn()).toBe(false);
        expect(await runner.query(statement, [3])).toEqual([{ more: 103 }]);
        expect(await runner.query(ours)).toEqual([{ n: 0 }]);
      } finally {
        await runner.release();
      }
      expect((await t.http().get('/readyz')).status).toBe(200);
    });
  });
});
