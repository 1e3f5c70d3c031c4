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
 * inline cache of its own.
 */
function compile(entity: new () => object, columns: ColumnMetadata[]): Hydrator {
  const body = columns.map((column) => {
    const name = JSON.stringify(column.databaseName);
    return `if (${name} in row) ${assign(entity, column, `row[${name}]`)}`;
  });
  return build(entity, body) as Hydrator;
}

/**
 * A hydrator of rows read as arrays (a statement `prepared` with `asArrays`), whose values from
 * index `from` on are the columns `names`, in that order. pg builds each object row by copying
 * a dictionary-mode template and then setting every column by name: 19 µs of a page of twenty
 * workflows under load (perf), where an array of the same values is one allocation.
 */
export function arrayHydrator<T extends object>(
  source: DataSource,
  entity: new () => T,
  names: readonly string[],
  from: number,
): (row: unknown[]) => T {
  const byName = new Map(source.getMetadata(entity).columns.map((c) => [c.databaseName, c]));
  const body = names.map((name, i) => {
    const column = byName.get(name);
    if (!column) throw new Error(`hydrate: ${entity.name} has no column ${name}`);
    return assign(entity, column, `row[${from + i}]`);
  });
  return build(entity, body) as (row: unknown[]) => T;
}

/**
 * Only plain columns: the entities here have neither embedded entities nor relations, whose
 * columns TypeORM sets otherwise. What enters a hydrator's text is property names, as JSON
 * string literals, and column names and indexes, all from the entity's declaration and the
 * code's statements, never from input.
 */
function assign(entity: new () => object, column: ColumnMetadata, value: string): string {
  if (column.embeddedMetadata || column.isVirtual) {
    throw new Error(`hydrate: ${entity.name}.${column.propertyName} is not a plain column`);
  }
  return `out[${JSON.stringify(column.propertyName)}] = ${value};`;
}

function build(entity: new () => object, body: string[]): (row: never) => object {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- see assign
  const make = new Function(
    'Entity',
    `return function (row) { const out = new Entity(); ${body.join('\n')} return out; }`,
  );
  return (make as (e: typeof entity) => (row: never) => object)(entity);
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
