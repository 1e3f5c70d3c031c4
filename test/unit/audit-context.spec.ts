import { AsyncResource } from 'node:async_hooks';
import { CallHandler, ExecutionContext } from '@nestjs/common';
import { ClsServiceManager } from 'nestjs-cls';
import { defer, lastValueFrom } from 'rxjs';
import {
  AUDIT_CONTEXT,
  AuditContext,
  AuditContextInterceptor,
} from '../../src/audit/audit-context';
import type { Principal } from '../../src/auth/principal';

const cls = ClsServiceManager.getClsService();
const interceptor = new AuditContextInterceptor(cls);

class RulesController {
  update(this: void) {}
}

function contextOf(user?: Principal): ExecutionContext {
  return {
    switchToHttp: () => ({ getRequest: () => ({ id: 'req-1', user }) }),
    getClass: () => RulesController,
    getHandler: () => RulesController.prototype.update,
  } as unknown as ExecutionContext;
}

/**
 * A handler that records `entries` entries the way AuditService does, and says what it saw.
 * Bound to the context current when handle() is called, as Nest's own CallHandler is.
 */
const handler = (entries: number): CallHandler<AuditContext> => ({
  handle: () =>
    defer(
      AsyncResource.bind(() => {
        const audit = cls.get<AuditContext>(AUDIT_CONTEXT);
        audit.recorded += entries;
        return Promise.resolve({ ...audit, actor: { ...audit.actor } });
      }),
    ),
});

/** The interceptor around a handler recording `entries`: what the handler saw. */
const run = (principal: Principal | undefined, entries: number) =>
  lastValueFrom(
    interceptor.intercept(contextOf(principal), handler(entries)),
  ) as Promise<AuditContext>;

const user: Principal = {
  kind: 'user',
  tenantId: '6a1d2c3b-0e4f-4a5b-8c7d-9e0f1a2b3c4d',
  customerId: null,
  role: 'admin',
  subject: 'auth0|42',
};

describe('AuditContextInterceptor', () => {
  it('gives the handler the caller and request id to record with', async () => {
    const seen = await run(user, 1);
    expect(seen).toEqual({
      actor: { kind: 'user', id: 'auth0|42' },
      requestId: 'req-1',
      recorded: 1,
    });
    const key = { ...user, kind: 'api_key' as const, subject: 'key-id' };
    const byKey = await run(key, 2);
    expect(byKey.actor).toEqual({ kind: 'api_key', id: 'key-id' });
  });

  it('names the platform when the route has no principal (the platform key)', async () => {
    const seen = await run(undefined, 1);
    expect(seen.actor).toEqual({ kind: 'platform', id: null });
  });

  it('fails a success that recorded nothing, so its transaction rolls back', async () => {
    await expect(run(user, 0)).rejects.toThrow('RulesController.update audited nothing');
  });

  it('leaves nothing behind for code outside the route', async () => {
    await run(user, 1);
    expect(cls.isActive() ? cls.get(AUDIT_CONTEXT) : undefined).toBeUndefined();
  });
});
