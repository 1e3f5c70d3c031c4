import { GUARDS_METADATA, INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import { RateLimitGuard } from '../../src/auth/rate-limit.guard';
import { WireInterceptor } from '../../src/common/wire.interceptor';
import { TestApp, startTestApp } from '../helpers/app';
import { routeHandlers } from '../helpers/route-handlers';

/** Routes that answer without the wire mapping or a transaction: probes and the scrape. */
const BARE = ['GET /healthz', 'GET /metrics', 'GET /readyz'];

/**
 * Guards and interceptors are per route, not global, so that the probes pay for none. What that
 * asks of every other route: the rate limit, once; and WireInterceptor (which runs the tenant
 * transaction) as its first interceptor, so every one after it (audit) runs inside
 * the transaction.
 */
describe('request pipeline', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  /** In the order Nest runs them: the controller's, then the handler's. */
  const listed = (key: string, controller: object, handler: object): unknown[] => [
    ...((Reflect.getMetadata(key, controller) as unknown[]) ?? []),
    ...((Reflect.getMetadata(key, handler) as unknown[]) ?? []),
  ];
  const interceptorsOf = (controller: object, handler: object) =>
    listed(INTERCEPTORS_METADATA, controller, handler);
  const guardsOf = (controller: object, handler: object) =>
    listed(GUARDS_METADATA, controller, handler);

  it('runs WireInterceptor first, once, on every route but the probes and the scrape', () => {
    const routes = routeHandlers(t);
    expect(routes.length).toBeGreaterThan(80); // the controllers were read, not nothing
    const wrong = routes
      .filter(({ route }) => !BARE.includes(route))
      .filter(({ controller, handler }) => {
        const list = interceptorsOf(controller, handler);
        return list[0] !== WireInterceptor || list.lastIndexOf(WireInterceptor) !== 0;
      })
      .map(({ route }) => route);
    expect(wrong).toEqual([]);
  });

  it('limits every route but the probes and the scrape, once, after its authenticating guard', () => {
    const wrong = routeHandlers(t)
      .filter(({ route }) => !BARE.includes(route))
      .filter(({ route, controller, handler }) => {
        const guards = guardsOf(controller, handler);
        const at = guards.indexOf(RateLimitGuard);
        if (at === -1 || guards.lastIndexOf(RateLimitGuard) !== at) return true;
        // Platform routes and public catalogs: by client IP, before anything else.
        if (route.includes(' /platform/') || guards.length === 1) return at !== 0;
        return at !== 1; // by principal: right after the guard that resolves it
      })
      .map(({ route }) => route);
    expect(wrong).toEqual([]);
  });

  it('runs no guard or interceptor on the probes and the scrape', () => {
    const bare = routeHandlers(t).filter(({ route }) => BARE.includes(route));
    expect(bare.map(({ route }) => route).sort()).toEqual(BARE);
    for (const { controller, handler } of bare) {
      expect(interceptorsOf(controller, handler)).toEqual([]);
      expect(guardsOf(controller, handler)).toEqual([]);
    }
  });

  it('refuses a public catalog past its per-minute budget by client address', async () => {
    const limited = await startTestApp({ RATE_LIMIT_PER_MINUTE: '3' });
    try {
      for (let i = 0; i < 3; i++) {
        await limited.http().get('/v1/rules/trigger-types').expect(200);
      }
      const refused = await limited.http().get('/v1/rules/trigger-types').expect(429);
      expect(typeof refused.body.detail).toBe('string');
      // The probes are never refused.
      await limited.http().get('/healthz').expect(200);
    } finally {
      await limited.close();
    }
  });

  it('still answers a public catalog in the wire format, and /healthz with its headers', async () => {
    const catalog = await t.http().get('/v1/rules/trigger-types').expect(200);
    expect(JSON.stringify(catalog.body)).not.toMatch(/"[a-z]+[A-Z]\w*":/); // no camelCase key
    expect(catalog.body[0]).toHaveProperty('payload_fields');
    const health = await t.http().get('/healthz').expect(200);
    expect(health.body).toEqual({ status: 'ok' });
    expect(health.headers['x-request-id']).toBeDefined();
    expect(health.headers['x-content-type-options']).toBe('nosniff');
  });
});
