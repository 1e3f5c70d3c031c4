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
  return violates(error, '23505', [constraint]);
}

/** True when `error` is PostgreSQL's foreign_key_violation on one of the named constraints. */
export function isForeignKeyViolation(error: unknown, ...constraints: string[]): boolean {
  return violates(error, '23503', constraints);
}

function violates(error: unknown, code: string, constraints: string[]): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driver = error.driverError as { code?: string; constraint?: string };
  return driver.code === code && constraints.includes(driver.constraint ?? '');
}
