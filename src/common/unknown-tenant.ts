import { unauthorized } from './errors';

/** A credential that names a tenant which does not exist: a refused credential, not a fault. */
export const unknownTenant = () => unauthorized('Unknown tenant');

/**
 * A write refused because its tenant row is missing: a foreign_key_violation on one of the
 * `<table>_tenant_id_fkey` constraints, the name PostgreSQL gives every `tenant_id REFERENCES
 * tenants` of the migrations (composite keys to other tables are named after all their
 * columns). Reached only when a tenant was removed by hand after its credential was checked.
 */
export function isUnknownTenantViolation(error: unknown): boolean {
  const { code, constraint } = (error ?? {}) as { code?: unknown; constraint?: unknown };
  return (
    code === '23503' && typeof constraint === 'string' && constraint.endsWith('_tenant_id_fkey')
  );
}
