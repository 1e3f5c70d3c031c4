import { ConfigError } from './config/app-config';
import { EmbeddedDatabaseError } from './database/embedded';

/** The database start-up was talking to when it failed, and the variable that names it. */
export interface DatabaseTarget {
  url: string;
  /** Unset for the embedded database, which nobody configured. */
  variable: string | null;
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** PostgreSQL's answers to a login it will not accept: bad password, no such role or database. */
const LOGIN_REFUSED = new Set(['28P01', '28000', '3D000']);

interface SystemError {
  code?: string;
  syscall?: string;
  path?: string;
  port?: number;
  message?: string;
  errors?: SystemError[];
}

/** Host and port only: the URL's password stays out of the line. */
function address(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 5432}`;
  } catch {
    return 'the configured address';
  }
}

/**
 * One line for the failures an operator can foresee and fix (bad configuration, a data directory
 * the embedded server cannot use, a port in use, a database that cannot be reached); null for
 * anything else, which keeps its stack.
 */
export function startupFailure(error: unknown, database: DatabaseTarget | null): string | null {
  if (error instanceof ConfigError || error instanceof EmbeddedDatabaseError) return error.message;
  const failure = (error ?? {}) as SystemError;
  const code = failure.code ?? failure.errors?.[0]?.code;
  if (failure.syscall === 'listen' && code === 'EADDRINUSE') {
    return `PORT ${failure.port} is already in use by another process: stop it or set PORT to a free port`;
  }
  if (failure.syscall === 'listen' && code === 'EACCES') {
    return `PORT ${failure.port} needs privileges this user lacks: set PORT to 1024 or above`;
  }
  if ((code === 'EACCES' || code === 'EPERM' || code === 'EROFS') && failure.path) {
    return (
      `cannot write ${failure.path} (${code}): set HYDRACORE_DATA_DIR to a directory this user ` +
      `can write`
    );
  }
  if (database && code && (UNREACHABLE.has(code) || LOGIN_REFUSED.has(code))) {
    const where = database.variable
      ? `the database at ${address(database.url)} (${database.variable})`
      : `the embedded database at ${address(database.url)}`;
    return UNREACHABLE.has(code)
      ? `cannot reach ${where}: ${code}`
      : `${where} refused the connection: ${(failure.message ?? code).split('\n')[0]}`;
  }
  return null;
}
