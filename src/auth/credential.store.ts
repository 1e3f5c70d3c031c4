import { Injectable } from '@nestjs/common';
import { IsNull } from 'typeorm';
import { unauthorized } from '../common/errors';
import { TenantDb } from '../database/tenant-db';
import { ApiKey, ProxyKey } from '../directory/directory.entities';
import { hashKey, keyTenant } from './keys';
import { Principal } from './principal';

/** Resolves stored keys to principals; each lookup runs inside the key's own tenant transaction. */
@Injectable()
export class CredentialStore {
  constructor(private readonly db: TenantDb) {}

  async apiKeyPrincipal(key: string): Promise<Principal> {
    const tenantId = keyTenant('api', key);
    if (!tenantId) throw unauthorized('Invalid API key');
    const row = await this.db.run(
      tenantId,
      (m) => m.findOne(ApiKey, { where: { tenantId, keyHash: hashKey(key), revokedAt: IsNull() } }),
      { readOnly: true },
    );
    if (!row) throw unauthorized('Invalid API key');
    return {
      kind: 'api_key',
      tenantId,
      customerId: row.customerId,
      role: row.role,
      subject: row.id,
    };
  }

  async proxyKeyPrincipal(key: string): Promise<Principal> {
    const tenantId = keyTenant('proxy', key);
    if (!tenantId) throw unauthorized('Invalid proxy key');
    const row = await this.db.run(
      tenantId,
      (m) =>
        m.findOne(ProxyKey, { where: { tenantId, keyHash: hashKey(key), revokedAt: IsNull() } }),
      { readOnly: true },
    );
    if (!row) throw unauthorized('Invalid proxy key');
    return {
      kind: 'instance',
      tenantId,
      customerId: null,
      role: 'member',
      subject: row.id,
      instanceId: row.instanceId,
    };
  }
}
