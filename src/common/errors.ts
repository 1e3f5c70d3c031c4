/**
 * Typed errors. Services throw these; the exception filter turns them into the wire format.
 * The status for each kind is decided in exactly one place (statusOf), never from message text.
 */
export type ErrorKind =
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'busy'
  | 'gone'
  | 'overloaded'
  | 'unavailable';

export class DomainError extends Error {
  /**
   * @param keepChanges the request's writes so far are committed before the error is answered
   *   (an approval found expired is marked expired, and the caller still gets its 410).
   */
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly keepChanges = false,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new DomainError('not_found', `${what} not found`);
export const forbidden = (message = 'Not allowed') => new DomainError('forbidden', message);
export const conflict = (message: string) => new DomainError('conflict', message);
export const unauthorized = (message = 'Not authenticated') =>
  new DomainError('unauthorized', message);
/** The database cannot be reached right now; the request may succeed if retried. */
export const databaseUnavailable = () => new DomainError('unavailable', 'Database unavailable');
/** The connection died while COMMIT was under way: the change may or may not be saved. */
export const commitOutcomeUnknown = () =>
  new DomainError(
    'unavailable',
    'Database connection lost while committing: the change may or may not have been saved',
  );

/** A row another request holds was not released within the lock timeout. */
export const rowBusy = () =>
  new DomainError('busy', 'Busy: another request is changing this resource; retry');
/** The tenant already has as many requests at the database as it may; this one waited its turn. */
export const tenantOverloaded = () =>
  new DomainError('overloaded', 'Too many requests of this tenant in flight; retry');
/** A statement ran past the statement timeout and was cancelled. */
export const statementTimedOut = () =>
  new DomainError('unavailable', 'The database took too long to answer; retry');

export function statusOf(kind: ErrorKind): number {
  switch (kind) {
    case 'unauthorized':
      return 401;
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'conflict':
    case 'busy':
      return 409;
    case 'gone':
      return 410;
    case 'overloaded':
      return 429;
    case 'unavailable':
      return 503;
    default: {
      const unreachable: never = kind;
      throw new Error(`unmapped error kind ${String(unreachable)}`);
    }
  }
}

/** One entry of a 422 `detail` list, in the shape the existing clients parse. */
export interface FieldError {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/**
 * A problem with one request field, named as the code names it (`customerId`), with `path`
 * reaching into its value (`[0, 'skill_slug']`: an index, or a key of free-form JSON, kept as
 * written). Services throw these; the wire layer turns the name into the client's `loc`.
 */
export interface FieldProblem {
  field: string;
  path?: (string | number)[];
  msg: string;
  type: string;
  /** Where the field came from; the body unless said. */
  source?: 'body' | 'query' | 'path';
}

/** One or more field problems: answered 422, each at its own `loc`. */
export class InvalidFields extends Error {
  constructor(readonly problems: FieldProblem[]) {
    super('Invalid fields');
  }
}

/** A 422 for one field of the body (or of `source`), e.g. `invalidField('customerId', 'Customer not found')`. */
export const invalidField = (
  field: string,
  msg: string,
  type = 'value_error',
  path: (string | number)[] = [],
  source: FieldProblem['source'] = 'body',
) => new InvalidFields([{ field, path, msg, type, source }]);

/** Errors at client `loc`s, built by the wire layer (validation, and InvalidFields mapped). */
export class RequestValidationError extends Error {
  constructor(readonly errors: FieldError[]) {
    super('Request validation failed');
  }

  static at(loc: (string | number)[], msg: string, type = 'value_error'): RequestValidationError {
    return new RequestValidationError([{ loc, msg, type }]);
  }
}
