import type { AppConfig } from '../config/app-config';

/** The SQL text TenantDb writes itself: what goes into it unparameterised, and how it is checked. */

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Requests run as hydracore_app inside one transaction whose app.tenant_id is set with BEGIN,
 * in one round trip (a simple-protocol query: the id is inlined, and only ever a checked UUID;
 * the timeouts are integers from the configuration). Every setting is transaction-local, so a
 * pooled connection carries nothing to its next user. The timeouts bound what one request can
 * hold: a slow statement is cancelled, and a wait on a row another request holds ends as
 * 409 "busy" instead of keeping a connection for as long as the holder likes.
 */
export const enterTenant = (tenantId: string, limits: string) =>
  `BEGIN; SELECT set_config('app.tenant_id', '${tenantId}', true), set_config('role', 'hydracore_app', true)${limits}`;

export const timeouts = (config: AppConfig) =>
  `, set_config('statement_timeout', '${Math.trunc(config.dbStatementTimeoutMs)}', true)` +
  `, set_config('lock_timeout', '${Math.trunc(config.dbLockTimeoutMs)}', true)`;

/** What may be written into SQL as it is: UUIDs and hex digests need no quoting or escaping. */
const PLAIN = /^[0-9a-f-]{1,128}$/;

/** A UUID or a hex digest as a SQL literal, for `readOnce` (simple protocol has no parameters). */
export function sqlLiteral(value: string, type: 'uuid' | 'bytea'): string {
  if (!PLAIN.test(value)) throw new Error('only UUIDs and hex digests are written into SQL');
  return type === 'uuid' ? `'${value}'::uuid` : `'\\x${value}'::bytea`;
}
