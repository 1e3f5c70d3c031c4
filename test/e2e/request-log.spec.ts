import { randomUUID } from 'node:crypto';
import { signDevToken } from '../../src/auth/tokens';
import { createLogger } from '../../src/observability/logger';
import { TEST_JWT_SECRET, TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';
import { LogLine, captureLogs } from '../helpers/log-lines';

const INFO = 30;
const ERROR = 50;

describe('the request log', () => {
  let t: TestApp;
  let a: TenantSession;
  let customer: string;
  let logs: ReturnType<typeof captureLogs>;

  beforeAll(async () => {
    logs = captureLogs(); // the whole file's lines, kept off the test run's output
    t = await startTestApp({ LOG_LEVEL: 'info' });
    a = await TenantSession.create(t, 'Logged');
    customer = await a.customer();
  });
  beforeEach(() => logs.clear());
  afterAll(async () => {
    await t.close();
    logs.stop();
  });

  /** The request lines written so far (other lines, the services' own, are left out). */
  const requestLines = () => logs.lines().filter((l) => l.msg === 'request');

  it('writes one line per request: id, tenant, principal, route, status and duration', async () => {
    const sub = `user-${randomUUID()}`;
    const jwt = signDevToken(TEST_JWT_SECRET, {
      sub,
      tenantId: a.tenantId,
      customerId: null,
      role: 'admin',
    });
    const res = await t
      .http()
      .get(`/v1/customers/${customer}`)
      .set('Authorization', `Bearer ${jwt}`)
      .set('X-Request-Id', 'req-logged-1')
      .expect(200);
    expect(res.headers['x-request-id']).toBe('req-logged-1');
    const lines = requestLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual(
      expect.objectContaining({
        level: INFO,
        reqId: 'req-logged-1',
        method: 'GET',
        route: '/v1/customers/:customer_id',
        path: `/v1/customers/${customer}`,
        status: 200,
        ms: expect.any(Number),
        tenantId: a.tenantId,
        principal: { kind: 'user', id: sub },
      }),
    );
    expect(logs.text()).not.toContain(jwt);
  });

  it('names an API key and a proxy key by their ids, never the keys', async () => {
    const apiKey = await a.apiKey();
    const instance = await a.instance();
    const proxyKey = await a.proxyKey(instance);
    logs.clear();
    await t.http().get('/v1/customers').set(apiKey.headers).expect(200);
    await t.http().get(`/internal/v1/instances/${instance}`).set(proxyKey.headers).expect(200);
    const [byKey, byInstance] = requestLines();
    expect(byKey).toEqual(
      expect.objectContaining({
        route: '/v1/customers',
        status: 200,
        tenantId: a.tenantId,
        principal: { kind: 'api_key', id: apiKey.id },
      }),
    );
    expect(byInstance).toEqual(
      expect.objectContaining({
        route: '/internal/v1/instances/:instance_id',
        status: 200,
        tenantId: a.tenantId,
        principal: { kind: 'instance', id: proxyKey.id },
      }),
    );
    const text = logs.text();
    for (const secret of [apiKey.key, proxyKey.key, apiKey.key.slice(-12), proxyKey.key.slice(-12)])
      expect(text).not.toContain(secret);
    expect(text).not.toMatch(/authorization|x-api-key/i);
  });

  it('logs a refusal at info, leaves out the probes, and keeps query strings out', async () => {
    await t.http().get('/healthz').expect(200);
    await t.http().get('/readyz').expect(200);
    await t.http().get('/v1/customers').expect(401);
    await t
      .http()
      .get(`/v1/customers/${randomUUID()}?phone=%2B447700900123`)
      .set(a.admin)
      .expect(404);
    const lines = requestLines();
    expect(lines.map((l) => [l.route, l.status, l.level])).toEqual([
      ['/v1/customers', 401, INFO],
      ['/v1/customers/:customer_id', 404, INFO],
    ]);
    expect(lines[0].tenantId).toBeUndefined();
    expect(logs.text()).not.toContain('447700900123');
  });

  it('logs a 5xx at error level, with the tenant it failed for', async () => {
    // A real failure of the database under a route: its table gone for a moment.
    await t.raw.query('ALTER TABLE customers RENAME TO customers_away');
    let lines: LogLine[];
    try {
      await t.http().get('/v1/customers').set(a.admin).expect(500);
      lines = requestLines();
    } finally {
      await t.raw.query('ALTER TABLE customers_away RENAME TO customers');
    }
    expect(lines).toEqual([
      expect.objectContaining({
        level: ERROR,
        route: '/v1/customers',
        status: 500,
        tenantId: a.tenantId,
        principal: expect.objectContaining({ kind: 'user' }),
      }),
    ]);
    // The error itself is logged once by the exception filter, without its SQL.
    const failure = logs.lines().filter((l) => l.msg === 'unhandled error');
    expect(failure).toHaveLength(1);
    expect(JSON.stringify(failure)).not.toMatch(/SELECT|FROM/);
  });
});

describe('LOG_FORMAT', () => {
  it('pretty: readable lines, not JSON; json: one JSON object a line', () => {
    const logs = captureLogs();
    try {
      createLogger({ level: 'info', format: 'pretty' }).info({ tenantId: 't-1' }, 'hello');
      createLogger({ level: 'info', format: 'json' }).info({ tenantId: 't-2' }, 'hello');
    } finally {
      logs.stop();
    }
    const [pretty, json] = logs.text().trim().split('\n');
    expect(pretty).toMatch(/INFO.*hello/);
    expect(pretty).toContain('t-1');
    expect(pretty.startsWith('{')).toBe(false);
    expect(JSON.parse(json)).toEqual(expect.objectContaining({ msg: 'hello', tenantId: 't-2' }));
  });
});
