import { Injectable } from '@nestjs/common';
import { unauthorized } from '../common/errors';
import { TenantDb, sqlLiteral } from '../database/tenant-db';
import type { Role } from '../directory/directory.entities';
import { KeyKind, hashKey, keyTenant } from './keys';
import { Principal } from './principal';

/** The live (unrevoked) key of `table` with this tenant and hash. */
const liveKey = (table: string, columns: string, tenantId: string, key: string) =>
  `SELECT ${columns} FROM ${table} WHERE tenant_id = ${sqlLiteral(tenantId, 'uuid')}
     AND key_hash = ${sqlLiteral(hashKey(key).toString('hex'), 'bytea')} AND revoked_at IS NULL`;

/** The one answer to a key that does not authenticate, whatever the reason. */
export const INVALID_KEY: Record<KeyKind, string> = {
  api: 'Invalid API key',
  proxy: 'Invalid proxy key',
};

/** Resolves stored keys to principals; each lookup runs inside the key's own tenant transaction. */
@Injectable()
export class CredentialStore {
  constructor(private readonly db: TenantDb) {}

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
