import { createHash } from 'node:crypto';
import {
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  SetMetadata,
  applyDecorators,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Observable, defer, lastValueFrom } from 'rxjs';
import { RequestValidationError, conflict } from '../common/errors';
import { RawJson } from '../common/raw-json';
import { toWire } from '../common/wire';
import { isWireResponse, wireJson } from '../common/wire-json';
import { IDEMPOTENCY_TTL_HOURS, IdempotencyRepository, KeyRef } from './idempotency.repository';
import { TenantDb } from './tenant-db';

const HEADER = 'idempotency-key';
/** Marks the routes that honour the header (`@Idempotent()`). */
const IDEMPOTENT = 'hydracore:idempotent';
/** 1 to 255 printable ASCII characters (space to tilde). */
const VALID_KEY = /^[\x20-\x7e]{1,255}$/;

/** What this layer needs of the caller the proxy-key guard left on `request.user`. */
interface InstanceCaller {
  tenantId: string;
  instanceId?: string;
}

type KeyedRequest = FastifyRequest & { user?: InstanceCaller };

/**
 * JSON text with object keys in sorted order: the same request sent with its fields in another
 * order is the same request. The parser has bounded the depth already.
 */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    const fields = Object.keys(object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(object[k])}`);
    return `{${fields.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The response text exactly as the wire interceptor will send it. */
function serialised(result: unknown): string | undefined {
  return isWireResponse(result) ? wireJson(result) : JSON.stringify(toWire(result));
}

/**
 * Runs inside the request's tenant transaction and before the body is validated: RequestScope
 * calls it there, on the routes marked `@Idempotent()`, rather than each such route naming it as
 * an interceptor of its own, a layer Nest wraps in an Observable and an `AsyncResource.bind`
 * whether it has work or not. Without the header it does nothing at all. With it,
 * the key's row is claimed first; the handler's 2xx answer is kept in the same transaction as
 * its effect, and a later request with the same key, route and body gets that answer again
 * without running. Any refusal or failure rolls back the claim with the work, so a retry under
 * the same key runs afresh.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly keys = new IdempotencyRepository();

  constructor(
    private readonly db: TenantDb,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<KeyedRequest>();
    const header = request.headers[HEADER];
    if (header === undefined || !this.reflector.get<boolean>(IDEMPOTENT, context.getHandler())) {
      return next.handle();
    }
    return defer(() => this.keyed(request, http.getResponse<FastifyReply>(), header, next));
  }

  private async keyed(
    request: KeyedRequest,
    reply: FastifyReply,
    header: string | string[],
    next: CallHandler,
  ): Promise<unknown> {
    if (typeof header !== 'string' || !VALID_KEY.test(header)) {
      throw RequestValidationError.at(
        ['header', HEADER],
        'Idempotency-Key must be 1 to 255 printable ASCII characters',
      );
    }
    const caller = request.user;
    if (!caller?.instanceId) throw new Error('@Idempotent() is for routes of an instance');
    const ref: KeyRef = { tenantId: caller.tenantId, instanceId: caller.instanceId, key: header };
    const route = `${request.method} ${request.routeOptions.url ?? ''}`;
    const hash = createHash('sha256')
      .update(`${request.method} ${request.url}\n${canonical(request.body)}`)
      .digest();
    const manager = this.db.manager;
    const stored = await this.keys.claim(manager, ref, route, hash);
    if (stored) {
      if (stored.route !== route || !stored.requestHash.equals(hash)) {
        throw conflict('Idempotency-Key reused with a different request');
      }
      void reply.status(stored.status).header('Idempotent-Replayed', 'true');
      return new RawJson(stored.response); // sent as it is: the first answer's very bytes
    }
    const result: unknown = await lastValueFrom(next.handle(), { defaultValue: undefined });
    const text = serialised(result);
    const status = reply.statusCode;
    // Nothing to replay (no body, or a status this layer does not keep): the row stays empty and
    // the next request with the key runs afresh.
    if (text !== undefined && status >= 200 && status < 300) {
      await this.keys.answer(manager, ref, status, text);
    }
    return result;
  }
}

/**
 * A creating POST of the runtime that honours an `Idempotency-Key` header: a retry with the same
 * key and request gets the first answer, with no second effect.
 */
export const Idempotent = () =>
  applyDecorators(
    SetMetadata(IDEMPOTENT, true),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        `Makes a retry safe: 1 to 255 printable ASCII characters, unique per request of this instance. ` +
        `A request repeated with the same key, route and body within ${IDEMPOTENCY_TTL_HOURS} h gets the ` +
        'first successful answer again (status and body, with `Idempotent-Replayed: true`) and changes nothing; ' +
        'a duplicate sent while the first is under way waits for its answer. The same key with another ' +
        'route or body is refused with 409. Refusals and failures are not kept: a retry after one runs afresh.',
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x20-\\x7E]+$' },
    }),
  );
