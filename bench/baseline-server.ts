/**
 * The baseline: a minimal node:http + pg server doing scenario 1's work by hand — verify the
 * same HS256 JWT, then BEGIN with the tenant and the runtime role set (one round trip, as the
 * API does), read a page of 20 and the total from the counters, COMMIT — the same statements
 * under the same RLS. Not part of the API; only here to measure against.
 */
import { createSecretKey } from 'node:crypto';
import { createServer } from 'node:http';
import { verify } from 'jsonwebtoken';
import { Pool } from 'pg';

const pool = new Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DB_POOL_SIZE ?? 10),
});
// A KeyObject made once, as the API does: jsonwebtoken would re-derive a string key per verify.
const secret = createSecretKey(Buffer.from(process.env.JWT_SECRET ?? ''));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const server = createServer((req, res) => {
  void (async () => {
    let claims: { tenant_id?: string };
    try {
      claims = verify((req.headers.authorization ?? '').slice(7), secret, {
        algorithms: ['HS256'],
      }) as { tenant_id?: string };
    } catch {
      res.writeHead(401).end();
      return;
    }
    const client = await pool.connect();
    try {
      const tenantId = String(claims.tenant_id);
      if (!UUID.test(tenantId)) throw new Error('not a tenant');
      await client.query(
        `BEGIN; SELECT set_config('app.tenant_id', '${tenantId}', true), set_config('role', 'hydracore_app', true)`,
      );
      const page = await client.query(
        `SELECT * FROM workflows WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET 0`,
        [claims.tenant_id],
      );
      // Prepared, as the API prepares it (src/database/prepared.ts); the page is not, in either.
      const total = await client.query({
        name: 'total',
        text: `SELECT COALESCE(sum(n), 0) AS total FROM workflow_counts WHERE tenant_id = $1`,
        values: [claims.tenant_id],
      });
      await client.query('COMMIT');
      const body = JSON.stringify({
        page: 1,
        per_page: 20,
        total: Number(total.rows[0].total),
        workflows: page.rows,
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    } catch {
      await client.query('ROLLBACK').catch(() => undefined);
      res.writeHead(500).end();
    } finally {
      client.release();
    }
  })();
});

server.listen(Number(process.env.PORT), '127.0.0.1', () =>
  process.stdout.write('baseline ready\n'),
);
process.on('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
