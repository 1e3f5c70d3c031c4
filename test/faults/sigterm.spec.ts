import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Client } from 'pg';
import { signDevToken } from '../../src/auth/tokens';
import { freePort } from '../../src/database/embedded';
import { adminQuery, testServer, withDatabase } from '../setup/test-server';
import { JWT_SECRET, MAIN, PLATFORM_KEY, Started, sleep, startBuilt } from './built-server';

/** Fewer than the pool's 10 connections: each request holds one while it waits on a row lock. */
const IN_FLIGHT = 8;
/** How long the requests are kept waiting after SIGTERM. */
const HOLD_MS = 1000;
const EXIT_WITHIN_MS = 10_000;

/** A tenant, an instance and its proxy key, and `count` workflows, all made through the API. */
async function seedWorkflows(base: string, count: number) {
  const post = async (path: string, headers: Record<string, string>, body: object) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string; key: string };
  };
  const platform = { 'X-Platform-Key': PLATFORM_KEY };
  const tenantId = (await post('/platform/v1/tenants', platform, { name: 'Shutdown' })).id;
  const token = signDevToken(JWT_SECRET, {
    sub: randomUUID(),
    tenantId,
    customerId: null,
    role: 'admin',
  });
  const admin = { Authorization: `Bearer ${token}` };
  const customer = (await post('/v1/customers', admin, { name: 'C' })).id;
  const instance = (await post('/v1/instances', admin, { name: 'I' })).id;
  const key = (await post(`/v1/instances/${instance}/proxy-keys`, admin, {})).key;
  const runtime = { Authorization: `Bearer ${key}` };
  const path = `/internal/v1/instances/${instance}/workflows`;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(
      (await post(path, runtime, { customer_id: customer, workflow_type: 'maintenance' })).id,
    );
  }
  return { runtime, path, ids };
}

/** A brand-new TCP connection (no keep-alive reuse): does the server still accept one? */
function freshConnection(port: number): Promise<string> {
  return new Promise((done) => {
    const req = httpRequest({ port, host: '127.0.0.1', path: '/healthz', agent: false }, (res) => {
      res.resume();
      done(String(res.statusCode));
    });
    req.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    req.end();
  });
}

describe('SIGTERM under load', () => {
  const server = testServer();
  const database = `hydracore_test_sigterm_${randomBytes(4).toString('hex')}`;
  let app: Started | undefined;
  let locker: Client | undefined;
  let observer: Client | undefined;

  afterAll(async () => {
    if (app && app.child.exitCode === null) app.child.kill('SIGKILL');
    await locker?.end().catch(() => undefined);
    await observer?.end().catch(() => undefined);
  });

  it('stops accepting, finishes every in-flight request with 2xx, then exits 0', async () => {
    expect(existsSync(MAIN)).toBe(true); // npm run test:faults builds first
    const owner = new URL(server.ownerUrl).username;
    await adminQuery(`CREATE DATABASE ${database} TEMPLATE ${server.template} OWNER "${owner}"`);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // Every request waits inside PostgreSQL, however long: one tenant may hold the whole pool
    // and wait on its locks for as long as the test holds them.
    app = await startBuilt(port, withDatabase(server.ownerUrl, database), {
      env: { DB_TENANT_MAX_CONNECTIONS: '10', DB_LOCK_TIMEOUT_MS: '60000' },
    });
    const { runtime, path, ids } = await seedWorkflows(base, IN_FLIGHT / 2);

    // Slow requests on demand: lock the workflows, so advancing them waits inside PostgreSQL.
    locker = new Client({ connectionString: withDatabase(server.adminUrl, database) });
    observer = new Client({ connectionString: withDatabase(server.adminUrl, database) });
    await Promise.all([locker.connect(), observer.connect()]);
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM workflows WHERE id = ANY($1) FOR UPDATE', [ids]);
    const answers = [...ids, ...ids].map(async (id) => {
      try {
        const res = await fetch(`${base}${path}/${id}`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json', ...runtime },
          body: JSON.stringify({ action: 'noted' }),
        });
        return { status: res.status, body: await res.text(), at: Date.now() };
      } catch (error) {
        return { status: 0, body: String(error), at: Date.now() };
      }
    });
    let waiting = 0;
    for (let i = 0; i < 100 && waiting < IN_FLIGHT; i++, await sleep(50)) {
      // Not on the locker: inside its transaction pg_stat_activity would stay a frozen snapshot.
      const { rows } = await observer.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = $1 AND wait_event_type = 'Lock'`,
        [database],
      );
      waiting = rows[0].n;
    }
    expect(waiting).toBe(IN_FLIGHT); // every request is in flight, holding a connection

    const sigtermAt = Date.now();
    app.child.kill('SIGTERM');
    await sleep(HOLD_MS);
    // Draining: still running, refusing new connections, every request still waiting.
    expect(app.child.exitCode).toBeNull();
    expect(await freshConnection(port)).toBe('ECONNREFUSED');
    await locker.query('COMMIT');
    const releasedAt = Date.now();
    const results = await Promise.all(answers);
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      app.exited,
      new Promise<null>((done) => (timer = setTimeout(() => done(null), EXIT_WITHIN_MS))),
    ]);
    clearTimeout(timer);
    console.log(
      [
        `in flight at SIGTERM: ${waiting}`,
        `statuses: ${results.map((r) => r.status).join(', ')}`,
        `last answer ${Math.max(...results.map((r) => r.at)) - releasedAt} ms after the locks went`,
        `exit ${exit?.code} ${exit ? exit.at - sigtermAt : `>${EXIT_WITHIN_MS}`} ms after SIGTERM`,
      ].join('\n'),
    );

    expect(results.map((r) => (r.status === 200 ? '200' : `${r.status} ${r.body}`))).toEqual(
      results.map(() => '200'),
    );
    expect(exit).not.toBeNull();
    expect(exit!.code).toBe(0);
    expect(app.output()).not.toMatch(/"level":(50|60)/); // nothing logged as error or fatal

    // Their changes are committed: each workflow has `created` plus both advances.
    const { rows } = await observer.query<{ n: number }>(
      'SELECT jsonb_array_length(history) AS n FROM workflows WHERE id = ANY($1)',
      [ids],
    );
    expect(rows.map((r) => r.n)).toEqual(ids.map(() => 3));
  });
});
