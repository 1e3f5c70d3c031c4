import { EntityManager, QueryFailedError } from 'typeorm';

/** Turns a raw row (UPDATE … RETURNING *) into an entity, column names mapped to properties. */
export function hydrate<T extends object>(
  manager: EntityManager,
  entity: new () => T,
  row: Record<string, unknown>,
): T {
  const out = new entity();
  for (const column of manager.connection.getMetadata(entity).columns) {
    if (column.databaseName in row) column.setEntityValue(out, row[column.databaseName]);
  }
  return out;
}

/** True when `error` is PostgreSQL's unique_violation on the named constraint or index. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driver = error.driverError as { code?: string; constraint?: string };
  return driver.code === '23505' && driver.constraint === constraint;
}
