import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

type Hydrator = (row: Record<string, unknown>) => object;

const hydrators = new WeakMap<DataSource, Map<unknown, Hydrator>>();

/** Turns a raw row (UPDATE … RETURNING *) into an entity, column names mapped to properties. */
export function hydrate<T extends object>(
  manager: EntityManager,
  entity: new () => T,
  row: Record<string, unknown>,
): T {
  let ofSource = hydrators.get(manager.connection);
  if (!ofSource) hydrators.set(manager.connection, (ofSource = new Map()));
  let hydrator = ofSource.get(entity);
  if (!hydrator) {
    hydrator = compile(entity, manager.connection.getMetadata(entity).columns);
    ofSource.set(entity, hydrator);
  }
  return hydrator(row) as T;
}

/**
 * An entity's hydrator, compiled once from its TypeORM columns. Looking the metadata up and
 * setting each column through `setEntityValue` by name cost 2 µs a workflow, a page of twenty
 * 41 µs of the list's CPU under load (perf): a lookup among every entity, and a megamorphic
 * load and store for each column of each row. Compiled, each column is read and set through an
 * inline cache of its own. Only plain columns: the entities here have neither embedded entities
 * nor relations, whose columns TypeORM sets otherwise. What enters the text is column and
 * property names, as JSON string literals, from the entity's declaration and never from input.
 */
function compile(entity: new () => object, columns: ColumnMetadata[]): Hydrator {
  const body = columns
    .map((column) => {
      if (column.embeddedMetadata || column.isVirtual) {
        throw new Error(`hydrate: ${entity.name}.${column.propertyName} is not a plain column`);
      }
      const name = JSON.stringify(column.databaseName);
      return `if (${name} in row) out[${JSON.stringify(column.propertyName)}] = row[${name}];`;
    })
    .join('\n');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- see above
  const make = new Function(
    'Entity',
    `return function (row) { const out = new Entity(); ${body} return out; }`,
  );
  return (make as (e: typeof entity) => Hydrator)(entity);
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
