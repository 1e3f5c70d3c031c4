import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Observable, from, lastValueFrom, switchMap } from 'rxjs';
import { DomainError } from '../common/errors';
import { LargeJsonBody, readLargeBody } from '../common/json-body';
import { rawBytes } from '../common/raw-json';
import { OWN_TRANSACTIONS } from './own-transactions';
import { ClosingResponse } from './tenant-admission';
import { CallerCheck, TenantDb } from './tenant-db';

/** Methods that change nothing (RFC 9110 §9.2.1). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * All this layer needs of the authenticated caller, which the authentication guards leave on
 * `request.user` (Passport's place for it). Declared here rather than imported from auth, which
 * itself uses the database: the database layer stays below every domain.
 */
interface TenantCaller {
  tenantId: string;
  /** What the guard left to be read in the request's transaction (see CallerCheck). */
  check?: CallerCheck;
}

/**
 * Every request with a tenant principal runs in one transaction on one connection: committed
 * when the handler succeeds, rolled back on any error, the connection released either way.
 * Not an interceptor of any route: RequestScope runs it inside WireInterceptor (see there).
 */
@Injectable()
export class TenantTransactionInterceptor implements NestInterceptor {
  constructor(
    private readonly db: TenantDb,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<{ method: string; user?: TenantCaller; body?: unknown }>();
    const { method, user: principal } = request;
    if (!principal || this.reflector.get<boolean>(OWN_TRANSACTIONS, context.getHandler())) {
      readLargeBody(request);
      const check = principal?.check;
      if (!check) return next.handle();
      return from(this.db.checkCaller(principal.tenantId, check)).pipe(
        switchMap(() => next.handle()),
      );
    }
    const { raw: response } = http.getResponse<{ raw: ClosingResponse & NodeJS.EventEmitter }>();
    const changes = !SAFE_METHODS.has(method);
    return new Observable((subscriber) => {
      const work = async () => {
        let check = principal.check;
        // Its tenant's turn first (see holdForLargeBody), and before a connection is taken. A
        // remembered key is checked before a large body is read: parsing a megabyte is no work
        // to do for a key that no longer works.
        if (request.body instanceof LargeJsonBody) {
          if (check) await this.db.checkCaller(principal.tenantId, check);
          check = undefined;
          await this.db.admission.holdForLargeBody(principal.tenantId, response);
          readLargeBody(request);
        }
        const runner = await this.db.begin(principal.tenantId, true, check);
        let ok = false;
        try {
          const result = await this.db.bind(
            runner,
            () => lastValueFrom(next.handle(), { defaultValue: undefined }),
            response,
          );
          ok = true;
          this.db.admission.chargeDocuments(principal.tenantId, rawBytes(result));
          return result;
        } catch (error) {
          ok = error instanceof DomainError && error.keepChanges;
          throw error;
        } finally {
          await this.db.end(runner, ok, changes);
        }
      };
      work().then(
        (value) => {
          subscriber.next(value);
          subscriber.complete();
        },
        (error: unknown) => subscriber.error(error),
      );
    });
  }
}
