import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Pool } from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { createApp } from '../../src/app.factory';
import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';
import { PgFaultProxy } from './pg-proxy';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The moments of an outage that the restart test meets only by chance, staged on purpose by a
 * proxy in front of the real database, so that each is met on every run.
 */
describe('connections lost at the worst moments', () => {
  let t: TestApp;
  let proxy: PgFaultProxy;
  let app: NestFastifyApplication;
  beforeAll(async () => {
    t = await startTestApp();
    proxy = await PgFaultProxy.start(t.databaseUrl);
    app = await createApp({ ...t.config, databaseUrl: proxy.route(t.databaseUrl) });
  });
  afterAll(async () => {
    await app.close();
    await proxy.close();
    await t.close();
  });

  const http = () => request(app.getHttpServer());
  const unavailable = { detail: 'Database unavailable' };

  /**
   * The server's FATAL in the same read as the ReadyForQuery that completes a new connection:
   * node-postgres emits it as an 'error' event after the pool has lent the client out and
   * before the borrower listens. Unheard, that event killed the process (it once failed the
   * restart test in CI); the request must be refused with 503 and the API carry on.
   */
  it('a connection dying the moment it is lent out: 503, then served on a fresh one', async () => {
    const a = await TenantSession.create(t, 'Race');
    const list = () => http().get('/v1/workflows').set(a.admin);
    expect((await list()).status).toBe(200);

    proxy.dropAll(); // the pool's idle connections go, so the next request opens a new one
    const pool = (app.get(DataSource).driver as PostgresDriver).master as Pool;
    for (let i = 0; i < 100 && pool.totalCount > 0; i++) await sleep(20);
    expect(pool.totalCount).toBe(0);
    proxy.killNextConnections(1);
    const refused = await list();
    expect(proxy.injected).toBe(1); // the race really was staged
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual(unavailable);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);

    const served = await list();
    expect(served.status).toBe(200);
    expect(served.body).toMatchObject({ total: 0, workflows: [] });
  });

  /**
   * Whether a lost COMMIT landed cannot be known, and the client is told so. (The server here
   * never saw it, so it did not.) A JWT, so that the only COMMIT is the handler's.
   */
  it('a write whose COMMIT is lost: 503 saying the outcome is unknown', async () => {
    const a = await TenantSession.create(t, 'Commit');
    // A JWT's tenant is looked up once (then remembered): done here, before the cut is armed.
    expect((await http().get('/v1/rules').set(a.admin)).status).toBe(200);
    proxy.cutNextCommits(1);
    const res = await http()
      .post('/v1/rules')
      .set(a.admin)
      .send({
        name: 'Big payments need the owner',
        trigger_event: 'skill.invoked',
        actions: [{ type: 'require_approval', skill_slug: 'payments', action: 'pay_contractor' }],
      });
    expect(proxy.commitsCut).toBe(1);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      detail:
        'Database connection lost while committing: the change may or may not have been saved',
    });
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    const stored = await t.raw.query('SELECT id FROM rules WHERE tenant_id = $1', [a.tenantId]);
    expect(stored.rows).toEqual([]);
  });

  /** A read changed nothing, so there is no outcome to be unsure of: plainly unavailable. */
  it.each([
    ['a list, by JWT', 'admin'],
    ['a proxy-key lookup, before the handler', 'runtime'],
  ])('a read whose COMMIT is lost (%s): 503, database unavailable', async (_, who) => {
    const a = await TenantSession.create(t, 'Read');
    const instance = await a.instance();
    const [path, headers] =
      who === 'admin'
        ? ['/v1/workflows', a.admin]
        : [`/internal/v1/instances/${instance}/workflows`, (await a.proxyKey(instance)).headers];
    const before = proxy.commitsCut;
    proxy.cutNextCommits(1);
    const res = await http().get(path).set(headers);
    expect(proxy.commitsCut).toBe(before + 1);
    expect(res.status).toBe(503);
    expect(res.body).toEqual(unavailable);
    expect((await http().get(path).set(headers)).status).toBe(200);
  });
});
