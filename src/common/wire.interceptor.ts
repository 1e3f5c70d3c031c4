import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Observable, map } from 'rxjs';
import { RawSlots } from './raw-json';
import { toWire } from './wire';

/** Responses whose documents weigh more than this are streamed rather than built whole. */
const STREAM_FROM = 1024 * 1024;

/**
 * Serialises every handler result through the wire mapping (camelCase → snake_case). A result
 * holding raw documents read from the database leaves as finished JSON text, the documents
 * spliced in unparsed.
 */
@Injectable()
export class WireInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      map((value: unknown) => {
        const slots = new RawSlots();
        const wire = toWire(value, slots);
        if (slots.empty) return wire;
        const reply = context.switchToHttp().getResponse<FastifyReply>();
        void reply.header('content-type', 'application/json; charset=utf-8');
        return slots.size > STREAM_FROM ? slots.stream(wire) : slots.stringify(wire);
      }),
    );
  }
}
