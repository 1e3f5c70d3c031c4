import { TenantDb } from '../../src/database/tenant-db';
import { TestApp } from './app';

/**
 * The plan of the statement `call` makes whose text includes `marker`, explained in the
 * tenant's transaction with the parameters the code gave it: the custom plan, or (`generic`)
 * the one a prepared statement may settle on after five runs, made without them. As JSON text,
 * for `"Index Name":"…"` to be looked for.
 */
export async function planOf(
  t: TestApp,
  tenantId: string,
  marker: string,
  call: () => Promise<unknown>,
  generic = false,
): Promise<string> {
  return t.app.get(TenantDb).run(tenantId, async (m) => {
    const made: [string, unknown[]][] = [];
    const query = m.query.bind(m);
    const spy = jest.spyOn(m, 'query').mockImplementation((sql: string, params) => {
      made.push([String(sql), params as unknown[]]);
      return query(sql, params);
    });
    try {
      await call();
    } finally {
      spy.mockRestore();
    }
    const [sql, params] = made.find(([text]) => text.includes(marker))!;
    if (!generic) {
      const [row] = await m.query(`EXPLAIN (FORMAT JSON) ${sql}`, params);
      return JSON.stringify(row['QUERY PLAN']);
    }
    const literal = (v: unknown) =>
      `'${(v instanceof Date ? v.toISOString() : String(v)).replace(/'/g, "''")}'`;
    await m.query(`SET LOCAL plan_cache_mode = force_generic_plan; PREPARE planned AS ${sql}`);
    const [row] = await m.query(
      `EXPLAIN (FORMAT JSON) EXECUTE planned(${params.map(literal).join(', ')})`,
    );
    await m.query('DEALLOCATE planned');
    return JSON.stringify(row['QUERY PLAN']);
  });
}
