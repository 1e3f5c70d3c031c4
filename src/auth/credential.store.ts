import { Injectable } from '@nestjs/common';
import { unauthorized } from '../common/errors';
import { TenantDb } from '../database/tenant-db';
import { sqlLiteral } from '../database/tenant-sql';
import { KeyKind, hashKey, keyTenant } from './keys';
import { Principal } from './principal';
import type { Role } from './roles';

/** The live (unrevoked) key of `table` with this tenant and hash. */
const liveKey = (table: string, columns: string, tenantId: string, key: string) =>
  `SELECT ${columns} FROM ${table} WHERE tenant_id = ${sqlLiteral(tenantId, 'uuid')}
     AND key_hash = ${sqlLiteral(hashKey(key).toString('hex'), 'bytea')} AND revoked_at IS NULL`;

/** The one answer to a key that does not authenticate, whatever the reason. */
export const INVALID_KEY: Record<KeyKind, string> = {
  api: 'Invalid API key',
  proxy: 'Invalid proxy key',
};

/**
 * How long a tenant seen to exist is believed to without asking again. The API never deletes
 * a tenant; one removed by hand is noticed within this time, and its writes meanwhile are
 * refused as an unknown tenant all the same (exception.filter.ts).
 */
const TENANT_TRUSTED_MS = 5 * 60_000;
/** Bounds the memory of known tenants (about 100 bytes each); the oldest sighting goes first. */
const KNOWN_TENANTS_MAX = 10_000;

/** Resolves stored keys to principals; each lookup runs inside the key's own tenant transaction. */
@Injectable()
export class CredentialStore {
  private readonly knownTenants = new Map<string, number>();

  constructor(private readonly db: TenantDb) {}

  /**
   * Whether the tenant a verified JWT names exists. A key is looked up in its tenant, so a key
   * of a missing tenant finds nothing; a JWT is checked by signature alone, and without this a
   * tenant that was never created would read empty lists and fail every write.
   */
  async tenantExists(tenantId: string): Promise<boolean> {
    const now = Date.now();
    if ((this.knownTenants.get(tenantId) ?? 0) > now) return true;
    this.knownTenants.delete(tenantId);
    const rows = await this.db.readOnce(
      tenantId,
      `SELECT 1 FROM tenants WHERE id = ${sqlLiteral(tenantId, 'uuid')}`,
    );
    if (rows.length === 0) return false;
    if (this.knownTenants.size >= KNOWN_TENANTS_MAX) {
      this.knownTenants.delete(this.knownTenants.keys().next().value as string);
    }
    this.knownTenants.set(tenantId, now + TENANT_TRUSTED_MS);
    return true;
  }

  async apiKeyPrincipal(key: string): Promise<Principal> {
    const tenantId = keyTenant('api', key);
    if (!tenantId) throw unauthorized(INVALID_KEY.api);
    const [row] = await this.db.readOnce<{ id: string; customer_id: string | null; role: Role }>(
      tenantId,
      liveKey('api_keys', 'id, customer_id, role', tenantId, key),
    );
    if (!row) throw unauthorized(INVALID_KEY.api);
    return {
      kind: 'api_key',
      tenantId,
      customerId: row.customer_id,
      role: row.role,
      subject: row.id,
    };
  }

  async proxyKeyPrincipal(key: string): Promise<Principal> {
    const tenantId = keyTenant('proxy', key);
    if (!tenantId) throw unauthorized(INVALID_KEY.proxy);
    const [row] = await this.db.readOnce<{ id: string; instance_id: string }>(
      tenantId,
      liveKey('proxy_keys', 'id, instance_id', tenantId, key),
    );
    if (!row) throw unauthorized(INVALID_KEY.proxy);
    return {
      kind: 'instance',
      tenantId,
      customerId: null,
      role: 'member',
      subject: row.id,
      instanceId: row.instance_id,
    };
  }
}
