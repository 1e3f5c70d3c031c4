/**
 * Typed configuration, validated once at start-up. Every variable is documented in .env.example;
 * the schema is in schema.ts, the kinds of value in fields.ts, and environment.ts reads .env and
 * the environment the same way for every entry point. A bad value raises ConfigError, whose
 * message is the single line printed before exiting.
 */
import { Env, parseEnvironment } from './environment';
import { AppConfig } from './config.types';
import { appConfigSchema } from './schema';

export { ConfigError } from './environment';
export type { AppConfig, LogLevel } from './config.types';
export { outboxLeaseMargin } from './schema';

/** Injection token: AppConfig is an interface, so Nest needs a token to resolve it. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/** Validates `env` as given (no .env). DATABASE_URL must already be resolved. */
export function loadConfig(env: Env): AppConfig {
  return parseEnvironment(appConfigSchema, env);
}
