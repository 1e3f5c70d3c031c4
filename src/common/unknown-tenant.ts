import { unauthorized } from './errors';

/** A credential that names a tenant which does not exist: a refused credential, not a fault. */
export const unknownTenant = () => unauthorized('Unknown tenant');

/**
 * A write refused because its tenant row is missing (a foreign key to tenants). Reached only
 * when a tenant was removed by hand after its credential was last checked.
 */
export function isUnknownTenantViolation(error: unknown): boolean {
  const { code, detail } = (error ?? {}) as { code?: unknown; detail?: unknown };
  return code === '23503' && typeof detail === 'string' && detail.endsWith('table "tenants".');
}
