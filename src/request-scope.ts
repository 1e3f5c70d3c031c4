import { CallHandler, ExecutionContext, Injectable } from '@nestjs/common';
import { Observable } from 'rxjs';
import { KeyUseInterceptor } from './auth/key-use.interceptor';
import type { HandlerScope } from './common/wire.interceptor';
import { IdempotencyInterceptor } from './database/idempotent';
import { TenantTransactionInterceptor } from './database/tenant-transaction.interceptor';

/**
 * What runs around every handler inside the wire mapping, as plain calls: the tenant
 * transaction, within it an API key's last-use stamp, and within that an `Idempotency-Key`'s
 * claim and answer on the routes that honour one. Each is a Nest interceptor on its own;
 * composed here instead of listed on the routes, since Nest wraps every interceptor of a route in
 * its own deferred Observable and `AsyncResource.bind`, a cost each request paid once per layer
 * whether the layer had work or not (BENCHMARKS.md, "Per-request cost").
 */
@Injectable()
export class RequestScope implements HandlerScope {
  constructor(
    private readonly transaction: TenantTransactionInterceptor,
    private readonly keyUse: KeyUseInterceptor,
    private readonly idempotency: IdempotencyInterceptor,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return this.transaction.intercept(context, {
      handle: () =>
        this.keyUse.intercept(context, { handle: () => this.idempotency.intercept(context, next) }),
    });
  }
}
