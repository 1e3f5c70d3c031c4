/**
 * What of an error may be logged. TypeORM's QueryFailedError carries the SQL (`query`), its
 * bound values (`parameters`: a new key's hash, personal data) and the driver's error
 * (`driverError`), whose `detail` quotes the values behind a violated constraint
 * (`Key (key_hash)=(\x…) already exists`). pino's error serializer would log them all, so only
 * the fields named here leave: enough to find the failing constraint or code path, no values.
 */
const DRIVER_FIELDS = ['code', 'severity', 'constraint', 'table', 'column', 'routine'] as const;

/** Causes deeper than this are not followed (a cycle, or a chain nobody reads). */
const MAX_CAUSES = 3;

export function loggableError(error: unknown, depth = 0): Record<string, unknown> {
  if (typeof error === 'string') return { type: 'string', message: error.slice(0, 500) };
  // Any other thrown non-Error may hold anything: only its kind is told.
  if (!(error instanceof Error)) return { type: error === null ? 'null' : typeof error };
  const out: Record<string, unknown> = {
    type: error.constructor.name,
    message: error.message,
    stack: error.stack,
  };
  const fields = error as unknown as Record<string, unknown>;
  for (const field of DRIVER_FIELDS) {
    const value = fields[field];
    if (typeof value === 'string' || typeof value === 'number') out[field] = value;
  }
  if (error.cause !== undefined && depth < MAX_CAUSES) {
    out.cause = loggableError(error.cause, depth + 1);
  }
  return out;
}
