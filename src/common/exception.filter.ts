import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { databaseLimitError, isConnectionError } from './connection-errors';
import {
  DomainError,
  FieldError,
  InvalidFields,
  RequestValidationError,
  databaseUnavailable,
  statusOf,
} from './errors';
import { loggableError } from './loggable-error';
import { wireLoc } from './wire';
import { isUnknownTenantViolation, unknownTenant } from './unknown-tenant';

interface ErrorResponse {
  status: number;
  detail: string | FieldError[];
  retryAfter?: string;
}

/** Seconds a client should wait before retrying a 503: about what a database restart takes. */
const RETRY_AFTER_SECONDS = '5';

/**
 * Every error leaves as {"detail": …}: a list for 422, a sentence otherwise. Unknown errors are
 * logged with the request id, without the SQL or its values, and answered with a bare 500.
 */
@Catch()
export class WireExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const response = this.describe(error);
    if (response.status === 401) reply.header('WWW-Authenticate', 'Bearer');
    if (response.retryAfter) reply.header('Retry-After', response.retryAfter);
    else if (response.status === 503) reply.header('Retry-After', RETRY_AFTER_SECONDS);
    void reply.status(response.status).send({ detail: response.detail });
  }

  private describe(error: unknown): ErrorResponse {
    if (isConnectionError(error)) {
      this.logger.warn({ error: String(error) }, 'database unavailable');
      return this.describe(databaseUnavailable());
    }
    const limit = databaseLimitError(error);
    if (limit) return this.describe(limit);
    if (error instanceof RequestValidationError) return { status: 422, detail: error.errors };
    if (error instanceof InvalidFields) return { status: 422, detail: error.problems.map(wireLoc) };
    if (error instanceof DomainError) {
      // A lock or a turn at the database is a moment away, not a restart away.
      const soon = error.kind === 'busy' || error.kind === 'overloaded';
      return {
        status: statusOf(error.kind),
        detail: error.message,
        retryAfter: soon ? '1' : undefined,
      };
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      return { status, detail: FASTIFY_MESSAGES[status] ?? httpMessage(error) };
    }
    if (isUnknownTenantViolation(error)) return this.describe(unknownTenant());
    this.logger.error({ error: loggableError(error) }, 'unhandled error');
    return { status: 500, detail: 'Internal server error' };
  }
}

function httpMessage(error: HttpException): string {
  const body = error.getResponse();
  if (typeof body === 'string') return body;
  const message = (body as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  return error.message;
}

/**
 * Fastify's own refusals reach filters as HttpExceptions (Nest maps them by status), so only
 * their message needs our wording.
 */
const FASTIFY_MESSAGES: Record<number, string> = {
  413: 'Request body too large (limit 1 MiB)',
  415: 'Unsupported media type: send application/json',
};
