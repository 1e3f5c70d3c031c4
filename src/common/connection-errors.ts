import { DomainError, rowBusy, statementTimedOut } from './errors';

/**
 * Errors that say the database cannot be reached right now, as opposed to a query it refused:
 * the request may succeed if retried, so it is answered 503 rather than 500.
 */

/** Sockets that could not connect or broke (the server is down, restarting or unreachable). */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs: class 08 (connection exception), 57P01 admin_shutdown, 57P02 crash_shutdown,
 * 57P03 cannot_connect_now (starting up or shutting down), 53300 too_many_connections.
 */
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/**
 * node-postgres raises these without a code, so their text is all there is to go on (pool
 * acquire timeout, connect timeout, a socket closed under a query, a client already broken).
 */
const DRIVER_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect$/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
];

interface Described {
  code?: unknown;
  message?: unknown;
  driverError?: Described;
}

/** Duck-typed, not `instanceof Error`: socket errors can come from another realm (Jest's VM). */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  // TypeORM wraps driver errors (QueryFailedError) but keeps the original as driverError.
  const described: Described = error;
  const { code, message } = described.driverError ?? described;
  if (typeof code === 'string') {
    return SOCKET_CODES.has(code) || SQLSTATES.has(code) || code.startsWith('08');
  }
  return typeof message === 'string' && DRIVER_MESSAGES.some((pattern) => pattern.test(message));
}

/**
 * Errors of a request's own making that the database stopped on purpose: 55P03 lock_not_available
 * (a row lock not granted within lock_timeout), 40P01 deadlock_detected and 40001
 * serialization_failure (concurrent changes that could not both go on; the transaction rolled
 * back whole, so a retry is safe) and 57014 query_canceled (statement_timeout). Mapped to what
 * they mean for the caller; null for anything else.
 */
export function databaseLimitError(error: unknown): DomainError | null {
  if (typeof error !== 'object' || error === null) return null;
  const described: Described = error;
  const { code } = described.driverError ?? described;
  if (code === '55P03' || code === '40P01' || code === '40001') return rowBusy();
  if (code === '57014') return statementTimedOut();
  return null;
}
