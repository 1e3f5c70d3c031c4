import {
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  SetMetadata,
  UseInterceptors,
  applyDecorators,
} from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { Observable, map } from 'rxjs';
import type { Principal } from '../auth/principal';
import type { ActorKind } from './audit-entry.entity';

/** Who is writing and under which request: what every entry of the request carries. */
export interface AuditContext {
  actor: { kind: ActorKind; id: string | null };
  requestId: string | null;
  /** Entries recorded so far by this request: an audited route must record at least one. */
  recorded: number;
}

export const AUDIT_CONTEXT = 'hydracore:audit';
/** Route metadata: 'audited', or the reason the route writes nothing worth an entry. */
export const AUDIT_ROUTE = 'hydracore:audit-route';

export type AuditRoute = { audited: true } | { exempt: string };

function actorOf(principal: Principal | undefined): AuditContext['actor'] {
  // Only the platform's guard authenticates without leaving a principal.
  if (!principal) return { kind: 'platform', id: null };
  if (principal.kind === 'instance') throw new Error('The runtime writes no audited routes');
  return { kind: principal.kind, id: principal.subject };
}

/**
 * Puts the caller and request id where AuditService finds them, inside the route's tenant
 * transaction (method interceptors run within the global one), and refuses, by failing the
 * request, a success that recorded no entry: a write route that forgot its `audit.record` rolls
 * back with a 500 instead of committing unaudited. (A platform route commits in a transaction of
 * its own before this check runs; its tests catch the same mistake.)
 */
@Injectable()
export class AuditContextInterceptor implements NestInterceptor {
  constructor(private readonly cls: ClsService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<{ id?: string; user?: Principal }>();
    const audit: AuditContext = {
      actor: actorOf(request.user),
      requestId: request.id ?? null,
      recorded: 0,
    };
    // The handler runs in the context current when handle() is called: a copy of the request
    // transaction's (when there is one) with the audit context added.
    const handled = this.cls.run(() => {
      this.cls.set(AUDIT_CONTEXT, audit);
      return next.handle();
    });
    return handled.pipe(
      map((result) => {
        if (audit.recorded === 0) {
          throw new Error(
            `${context.getClass().name}.${context.getHandler().name} audited nothing`,
          );
        }
        return result;
      }),
    );
  }
}

/**
 * A write route whose changes are audited: its service records at least one entry through
 * AuditService.record in the request's transaction.
 */
export const Audited = () =>
  applyDecorators(
    SetMetadata(AUDIT_ROUTE, { audited: true } satisfies AuditRoute),
    UseInterceptors(AuditContextInterceptor),
  );

/** A write route (POST, PATCH, PUT, DELETE) that changes nothing worth an entry, and why. */
export const AuditExempt = (reason: string) =>
  SetMetadata(AUDIT_ROUTE, { exempt: reason } satisfies AuditRoute);
