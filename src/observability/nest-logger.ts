import type { LoggerService } from '@nestjs/common';
import type { Level, Logger } from 'pino';

/**
 * Nest's start-up chatter: a line per module, per controller and per route ("Mapped {/v1/…,
 * GET} route"), some 150 in all. Kept for debugging (LOG_LEVEL=debug), out of the way of the
 * banner and of a production log otherwise.
 */
const START_UP_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

/**
 * Nest's LoggerService on the app's pino logger: what Nest logs itself and what the services log
 * through `new Logger(context)`. A call is `(message, ...params, context)`: an object message
 * becomes the line's fields (an Error its `err`), the context its `context` field.
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  verbose(message: unknown, ...params: unknown[]): void {
    this.call('trace', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.call('debug', message, params);
  }
  log(message: unknown, ...params: unknown[]): void {
    this.call('info', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.call('warn', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.call('error', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.call('fatal', message, params);
  }

  private call(level: Level, message: unknown, params: unknown[]): void {
    const fields: Record<string, unknown> = {};
    let rest = params;
    if (params.length > 0) {
      const context = params[params.length - 1];
      if (context !== undefined) fields.context = context;
      rest = params.slice(0, -1).filter((p) => p !== undefined);
      if (level === 'info' && START_UP_CONTEXTS.has(context as string)) level = 'debug';
    }
    if (!this.logger.isLevelEnabled(level)) return;
    if (message instanceof Error) {
      fields.err = message;
      this.logger[level](fields, ...(rest as [string?]));
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ ...fields, ...message }, ...(rest as [string?]));
    } else if (level === 'error' && typeof rest[0] === 'string' && /\n\s*at /.test(rest[0])) {
      // Nest's own handlers call error(message, stack): the stack goes with an `err`.
      const err = new Error(String(message));
      err.stack = rest[0];
      this.logger.error({ ...fields, err });
    } else {
      this.logger[level](fields, String(message), ...rest);
    }
  }
}
