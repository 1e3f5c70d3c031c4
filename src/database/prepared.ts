import { createHash } from 'node:crypto';

const byText = new Map<string, string>();

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
 *
 * No `*` but `count(*)`: once a migration adds a column, PostgreSQL refuses a star's cached
 * plan on a running replica ("cached plan must not change result type").
 */
export function prepared(text: string): string {
  let statement = byText.get(text);
  if (!statement) {
    if (/(?<!\()\*/.test(text)) throw new Error('a prepared statement names its columns');
    const name = `hc_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    statement = { name, text, toString: () => text } as unknown as string;
    byText.set(text, statement);
  }
  return statement;
}
