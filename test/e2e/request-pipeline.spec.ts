import { INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import { WireInterceptor } from '../../src/common/wire.interceptor';
import { TestApp, startTestApp } from '../helpers/app';
import { routeHandlers } from '../helpers/route-handlers';

/** Routes that answer without the wire mapping or a transaction: probes and the scrape. */
const BARE = ['GET /healthz', 'GET /metrics', 'GET /readyz'];

/**
 * Interceptors are per route, not global, so that the probes pay for none. What that asks of
 * every other route: WireInterceptor (which runs the tenant transaction) is its first, so every
 * interceptor after it (audit, idempotency) runs inside the transaction.
 */
describe('request pipeline', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const interceptorsOf = (controller: object, handler: object): unknown[] => [
    ...((Reflect.getMetadata(INTERCEPTORS_METADATA, controller) as unknown[]) ?? []),
    ...((Reflect.getMetadata(INTERCEPTORS_METADATA, handler) as unknown[]) ?? []),
  ];

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

  it('runs no interceptor on the probes and the scrape', () => {
    const bare = routeHandlers(t).filter(({ route }) => BARE.includes(route));
    expect(bare.map(({ route }) => route).sort()).toEqual(BARE);
    for (const { controller, handler } of bare) {
      expect(interceptorsOf(controller, handler)).toEqual([]);
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
