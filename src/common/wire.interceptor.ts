import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable, map } from 'rxjs';
import { toWire } from './wire';

/** Serialises every handler result through the wire mapping (camelCase → snake_case). */
@Injectable()
export class WireInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map(toWire));
  }
}
