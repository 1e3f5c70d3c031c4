import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';

const byText = new Map<string, string>();
/** Keys the memo's statements read as arrays apart (a NUL: no statement text holds one). */
const ARRAYS = '\u0000arrays\u0000';
let named = true;

/**
 * A named prepared statement: parsed once per pooled connection, and after its first five runs
 * PostgreSQL keeps one generic plan when that costs no more than planning each time. For hot
 * statements whose parsing and planning cost more than their execution: the cooldown claim cost
 * the server 0.5–0.9 ms of CPU per event unprepared and 0.13–0.17 ms prepared (BENCHMARKS.md).
 * The name is a digest of the text, so one name never meets two texts.
 *
 * TypeORM hands a query to pg untouched, and pg takes a `{ name, text }` config wherever it
 * takes SQL text: hence the cast; `toString` keeps the text for logs and error messages.
 * Texts come from code, never from input, so the memo stays as small as the code's set.
 * The name is read as each query starts, so switching statements off (below) reaches the
 * statements repositories built at load time: without one, pg sends them unnamed.
 *
 * `asArrays`: its rows come as arrays of values in the statement's column order, not objects
 * (see arrayHydrator). The same statement on the server either way.
 *
 * No `*` but `count(*)`: once a migration adds a column, PostgreSQL refuses a star's cached
 * plan on a running replica ("cached plan must not change result type").
 */
export function prepared(text: string, asArrays = false): string {
  const key = asArrays ? `${ARRAYS}${text}` : text;
  let statement = byText.get(key);
  if (!statement) {
    if (/(?<!\()\*/.test(text)) throw new Error('a prepared statement names its columns');
    const name = `hc_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    // Its fields on a prototype of its own: pg copies a config's own properties, descriptors
    // and all, into a new object for every query (4 µs each, 0.4 µs with nothing to copy).
    statement = Object.create({
      get name() {
        return named ? name : undefined;
      },
      text,
      rowMode: asArrays ? 'array' : undefined,
      toString: () => text,
    }) as string;
    byText.set(key, statement);
  }
  return statement;
}

/**
 * A statement sent unnamed, parsed and planned on every run, in the form `prepared` gives (rows
 * as arrays with `asArrays`): for statements whose texts are too many to keep on every pooled
 * connection. Not remembered either.
 */
export function unnamed(text: string, asArrays = false): string {
  return Object.create({
    text,
    rowMode: asArrays ? 'array' : undefined,
    toString: () => text,
  }) as string;
}

/**
 * Named statements on or off for this process. A named statement lives on one server
 * connection: behind a transaction-mode pooler (PgBouncer before 1.21, or without
 * max_prepared_statements) the next query of the same client may reach another, which has never
 * seen it ("does not exist"), or one that another client prepared it on ("already exists").
 */
export function usePreparedStatements(on: boolean): void {
  named = on;
}

export function preparedStatementsOn(): boolean {
  return named;
}

const LOST = new Set(['26000', '42P05']); // invalid_sql_statement_name, duplicate_prepared_statement

/**
 * The driver error of a failed query: one of ours lost or duplicated by a pooler turns named
 * statements off for good, with one line in the log, so the requests after it work (and /readyz,
 * which runs a prepared statement, tells the truth). The request that met it has failed already.
 */
export function noticeStatementError(error: unknown): void {
  if (!named) return;
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code !== 'string' || !LOST.has(code)) return;
  if (typeof message !== 'string' || !/prepared statement "hc_[0-9a-f]{24}"/.test(message)) return;
  named = false;
  new Logger('Database').warn(
    `${message}: a transaction-mode pooler is between us and PostgreSQL; prepared statements are off from now on (set DB_PREPARED_STATEMENTS=false to start that way)`,
  );
}
