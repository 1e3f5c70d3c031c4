import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import type { z } from 'zod';

/** A configuration problem; its message is the one line printed before exiting, no stack. */
export class ConfigError extends Error {}

export type Env = Record<string, string | undefined>;

/**
 * How every entry point (the server, the token script, the migration CLI) reads its settings:
 * `.env` in the working directory when there is one, the real environment winning over it, then
 * `schema`, whose failures become one ConfigError line naming each variable. `defaults`
 * stand in for variables that are unset or blank (embedded mode's generated secrets).
 */
export function readEnvironment<T>(schema: z.ZodType<T>, defaults: Env = {}): T {
  const file: Env = {};
  if (existsSync('.env')) {
    try {
      Object.assign(file, parseEnv(readFileSync('.env', 'utf8')));
    } catch (error) {
      throw new ConfigError(`.env cannot be read: ${(error as Error).message}`);
    }
  }
  // As process.loadEnvFile would: what the environment lacks, .env provides, for every reader.
  for (const [name, value] of Object.entries(file)) process.env[name] ??= value;
  const env: Env = { ...defaults };
  for (const [name, value] of Object.entries({ ...file, ...process.env })) {
    if (value?.trim() || !(name in defaults)) env[name] = value;
  }
  return parseEnvironment(schema, env);
}

/** Validates `env` against `schema`; every problem is a clause of one line. */
export function parseEnvironment<T>(schema: z.ZodType<T>, env: Env): T {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const clauses = result.error.issues.map((issue) =>
    `${issue.path.map(String).join('.')} ${issue.message}`.trim().replace(/\s*\n\s*/g, ' '),
  );
  throw new ConfigError([...new Set(clauses)].join('; '));
}
