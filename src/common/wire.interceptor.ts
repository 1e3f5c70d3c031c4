import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Observable, map } from 'rxjs';
import { RawSlots, rawBytes } from './raw-json';
import { toWire } from './wire';
import { isWireResponse, wireJson } from './wire-json';

/** Responses whose documents weigh more than this are streamed rather than built whole. */
const STREAM_FROM = 1024 * 1024;

/**
 * What runs around the handler inside the wire mapping: the tenant transaction
 * (TenantTransactionInterceptor), provided under this token by the application module, since the
 * database layer sits above this one.
 */
export const HANDLER_SCOPE = Symbol('handler-scope');

export interface HandlerScope {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown>;
}

/**
 * Serialises a handler's result through the wire mapping (camelCase → snake_case), written as
 * JSON text in one pass (wireJson), raw documents read from the database spliced in unparsed. A
 * result carrying more than a MiB of them is streamed a document at a time instead.
 *
 * A route interceptor, not a global one, named by the access decorators (auth.decorators.ts): Nest
 * wraps each interceptor of a route in its own deferred Observable and `AsyncResource.bind`
 * (whose deprecation wrappers Node 20 builds on every call), about 0.15 ms of CPU that /healthz,
 * which needs none of this, paid on every probe. For the same reason the handler scope runs
 * inside it as a plain call rather than as interceptors of its own. It must be the route's
 * first interceptor, so that every other runs inside the tenant transaction; a test checks
 * every route for it.
 */
@Injectable()
export class WireInterceptor implements NestInterceptor {
  constructor(@Inject(HANDLER_SCOPE) private readonly transaction: HandlerScope) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    // What the transaction committed is serialised after its connection went back to the pool.
    return this.transaction.intercept(context, next).pipe(
      map((value: unknown) => {
        // Anything else (nothing, a bare string) goes to Fastify as it is, as before.
        if (!isWireResponse(value)) return toWire(value);
        const reply = context.switchToHttp().getResponse<FastifyReply>();
        void reply.header('content-type', 'application/json; charset=utf-8');
        if (rawBytes(value) <= STREAM_FROM) return wireJson(value);
        const slots = new RawSlots();
        return slots.stream(toWire(value, slots));
      }),
    );
  }
}
