import { DataSource, QueryFailedError } from 'typeorm';
import { prepared } from '../../src/database/prepared';
import { TestApp, startTestApp } from '../helpers/app';

describe('prepared statements', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('go through TypeORM to pg as named statements, prepared once per connection', async () => {
    const statement = prepared('SELECT $1::int + 1 AS next');
    const runner = t.app.get(DataSource).createQueryRunner();
    try {
      expect(await runner.query(statement, [1])).toEqual([{ next: 2 }]);
      expect(await runner.query(statement, [41])).toEqual([{ next: 42 }]);
      const held = (await runner.query(
        `SELECT name FROM pg_prepared_statements WHERE statement = $1`,
        [String(statement)],
      )) as { name: string }[];
      expect(held).toEqual([{ name: expect.stringMatching(/^hc_[0-9a-f]{24}$/) }]);
    } finally {
      await runner.release();
    }
  });

  it('fail as any query does: a QueryFailedError carrying the driver error', async () => {
    const runner = t.app.get(DataSource).createQueryRunner();
    try {
      const divide = prepared('SELECT 1 / $1::int AS quotient');
      await expect(runner.query(divide, [0])).rejects.toBeInstanceOf(QueryFailedError);
      await expect(runner.query(divide, [0])).rejects.toMatchObject({
        driverError: { code: '22012' },
      });
      expect(await runner.query(divide, [1])).toEqual([{ quotient: 1 }]);
      expect(prepared('SELECT count(*) AS n FROM workflows')).toBeDefined(); // count(*) is fine
    } finally {
      await runner.release();
    }
  });

  it('keep one name per text and differ between texts', () => {
    expect(prepared('SELECT 1 AS one')).toBe(prepared('SELECT 1 AS one'));
    const name = (text: string) => (prepared(text) as unknown as { name: string }).name;
    expect(name('SELECT 1 AS one')).not.toBe(name('SELECT 2 AS two'));
  });

  it.each([
    ['SELECT * FROM workflows WHERE tenant_id = $1'],
    ['SELECT w.* FROM workflows w'],
    ['SELECT DISTINCT * FROM workflows'],
    ['SELECT id, * FROM workflows'],
    ['UPDATE rules SET priority = 1 RETURNING id, *'],
  ])('refuse a star, which a running replica could not survive a migration with: %s', (text) => {
    expect(() => prepared(text)).toThrow('a prepared statement names its columns');
  });

  it('survive a column added under them when they name their columns, unlike a star', async () => {
    const client = await t.raw.connect();
    try {
      await client.query('CREATE TEMP TABLE scratch (a int)');
      await client.query('INSERT INTO scratch VALUES (1)');
      const named = prepared('SELECT a FROM scratch') as unknown as { name: string; text: string };
      const star = { name: 'scratch_star', text: 'SELECT * FROM scratch' };
      await client.query(named);
      await client.query(star);
      await client.query('ALTER TABLE scratch ADD COLUMN b int');
      expect((await client.query(named)).rows).toEqual([{ a: 1 }]);
      await expect(client.query(star)).rejects.toMatchObject({ code: '0A000' });
    } finally {
      client.release(true);
    }
  });
});
