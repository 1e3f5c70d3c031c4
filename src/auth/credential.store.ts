import { Injectable } from '@nestjs/common';
import { forbidden, unauthorized } from '../common/errors';
import { TenantDb } from '../database/tenant-db';
import { sqlLiteral } from '../database/tenant-sql';
import { KeyKind, hashKey, keyTenant } from './keys';
import { KnownKeys } from './known-keys';
import { Principal } from './principal';
import type { Role } from './roles';

/**
 * The working key of `table` with this tenant and hash (neither revoked nor past its expiry),
 * with its tenant's status: one statement, so suspension costs a key no extra round trip.
 */
const workingKey = (table: string, columns: string, tenantId: string, key: string) =>
  `SELECT ${columns}, t.status AS tenant_status FROM ${table} k JOIN tenants t ON t.id = k.tenant_id
    WHERE k.tenant_id = ${sqlLiteral(tenantId, 'uuid')}
      AND k.key_hash = ${sqlLiteral(hashKey(key).toString('hex'), 'bytea')}
      AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())`;

/** How often a key's last_used_at is written at most. */
const LAST_USED_RESOLUTION = `interval '1 minute'`;
/** Whether an API key's last use is due to be stamped (see stampApiKeyUse). */
const STALE = `(k.last_used_at IS NULL OR k.last_used_at <= now() - ${LAST_USED_RESOLUTION}) AS stale`;

export const TENANT_SUSPENDED = 'Tenant suspended';

type TenantStatus = 'active' | 'suspended';
interface WithTenantStatus {
  tenant_status: TenantStatus;
}

/** A working credential of a suspended tenant: known, so 403 rather than 401. */
export function refuseSuspended(row: WithTenantStatus): void {
  if (row.tenant_status !== 'active') throw forbidden(TENANT_SUSPENDED);
}

/** The one answer to a key that does not authenticate, whatever the reason. */
export const INVALID_KEY: Record<KeyKind, string> = {
  api: 'Invalid API key',
  proxy: 'Invalid proxy key',
};

/**
 * How long a tenant's status, as read for a JWT, is believed without asking again: a tenant
 * suspended (or reactivated) through another replica is noticed within this bound; through this
 * one, at once (`forgetTenant`). Keys read the status with the key itself, so are never stale.
 * A tenant removed by hand is noticed within it too, and its writes meanwhile are refused as an
 * unknown tenant all the same (exception.filter.ts).
 */
export const TENANT_STATUS_TRUSTED_MS = 5_000;
/** Bounds the memory of known tenants (about 100 bytes each); the oldest sighting goes first. */
const KNOWN_TENANTS_MAX = 10_000;

/** Resolves stored keys to principals; each lookup runs inside the key's own tenant transaction. */
@Injectable()
export class CredentialStore {
  private readonly knownTenants = new Map<string, { status: TenantStatus; until: number }>();
  private readonly knownKeys = new KnownKeys();
  /** Counts forgetTenant calls: a read that began before one may hold the old status. */
  private forgotten = 0;

  constructor(private readonly db: TenantDb) {}

  /**
   * The status of the tenant a verified JWT names, null when it does not exist. A key is looked
   * up in its tenant, so a key of a missing tenant finds nothing; a JWT is checked by signature
   * alone, and without this a tenant that was never created would read empty lists and fail
   * every write. Asked once per tenant per TENANT_STATUS_TRUSTED_MS at most.
   */
  async tenantStatus(tenantId: string): Promise<TenantStatus | null> {
    const now = Date.now();
    const known = this.knownTenants.get(tenantId);
    if (known && known.until > now) return known.status;
    this.knownTenants.delete(tenantId);
    const forgottenBefore = this.forgotten;
    const [row] = await this.db.readOnce<{ status: TenantStatus }>(
      tenantId,
      `SELECT status FROM tenants WHERE id = ${sqlLiteral(tenantId, 'uuid')}`,
    );
    if (!row) return null;
    // A status changed here while this read ran may be newer than what it found: not kept.
    if (this.forgotten !== forgottenBefore) return row.status;
    if (this.knownTenants.size >= KNOWN_TENANTS_MAX) {
      this.knownTenants.delete(this.knownTenants.keys().next().value as string);
    }
    this.knownTenants.set(tenantId, { status: row.status, until: now + TENANT_STATUS_TRUSTED_MS });
    return row.status;
  }

  /** Drops what this replica believes of a tenant: its status has just changed. */
  forgetTenant(tenantId: string): void {
    this.forgotten++;
    this.knownTenants.delete(tenantId);
  }

  async apiKeyPrincipal(key: string): Promise<Principal> {
    const tenantId = keyTenant('api', key);
    if (!tenantId) throw unauthorized(INVALID_KEY.api);
    const digest = hashKey(key).toString('hex');
    const known = this.knownKeys.get(digest);
    if (known) return this.rechecked('api', digest, known);
    const [row] = await this.db.readOnce<
      { id: string; customer_id: string | null; role: Role; stale: boolean } & WithTenantStatus
    >(tenantId, workingKey('api_keys', `k.id, k.customer_id, k.role, ${STALE}`, tenantId, key));
    if (!row) throw unauthorized(INVALID_KEY.api);
    refuseSuspended(row);
    const principal: Principal = {
      kind: 'api_key',
      tenantId,
      customerId: row.customer_id,
      role: row.role,
      subject: row.id,
    };
    this.knownKeys.remember(digest, principal);
    return { ...principal, ...(row.stale ? { lastUseStale: true } : {}) };
  }

  /**
   * A key this replica has seen authenticate, with what may have changed since (revoked, past
   * its expiry, its tenant suspended or removed) left to the request's transaction to read, in
   * the round trip of its BEGIN. The lookup's own transaction is spared: for the runtime, whose
   * every call carries its instance's key, a pool checkout and a round trip fewer a request.
   * A key found no longer working is forgotten and refused as any wrong key is.
   */
  private rechecked(kind: KeyKind, digest: string, known: Principal): Principal {
    const principal: Principal = { ...known };
    const key = [
      sqlLiteral(known.tenantId, 'uuid'),
      sqlLiteral(known.subject, 'uuid'),
      sqlLiteral(digest, 'bytea'),
    ].join(', ');
    principal.check = {
      // Functions (migration KeyChecks): their statement is planned once per connection, where
      // the same join written here was planned on every request.
      sql:
        kind === 'api'
          ? `SELECT tenant_status, stale FROM api_key_check(${key}, ${LAST_USED_RESOLUTION})`
          : `SELECT tenant_status FROM proxy_key_check(${key})`,
      judge: (rows) => {
        const row = rows[0] as (WithTenantStatus & { stale?: boolean }) | undefined;
        // Forgotten when refused, so that its next request is refused by the guard, as a key
        // never seen is, before its body is read or a connection taken.
        if (!row || row.tenant_status !== 'active') this.knownKeys.forget(digest);
        if (!row) throw unauthorized(INVALID_KEY[kind]);
        refuseSuspended(row);
        if (row.stale) principal.lastUseStale = true;
      },
    };
    return principal;
  }

  /**
   * Runs a remembered key's check now, in a transaction of its own, rather than with the
   * request's BEGIN: for a guard about to refuse the request on what the key names (its role,
   * its instance), whose answer must be the one a key that no longer works gets (401), or its
   * suspended tenant (403), as if the key had been looked up.
   */
  async confirm(principal: Principal): Promise<void> {
    const check = principal.check;
    if (!check) return;
    await this.db.checkCaller(principal.tenantId, check);
    delete principal.check;
  }

  /**
   * Stamps an API key's last_used_at, in the request's own transaction, so that a refused or
   * failed request writes nothing. Written at most once a minute per key; a request that finds
   * the row locked by another request stamping it leaves the stamp to that one.
   */
  async stampApiKeyUse(tenantId: string, keyId: string): Promise<void> {
    await this.db.manager.query(
      `UPDATE api_keys SET last_used_at = now()
        WHERE tenant_id = $1 AND id = (
          SELECT id FROM api_keys WHERE tenant_id = $1 AND id = $2
             AND (last_used_at IS NULL OR last_used_at <= now() - ${LAST_USED_RESOLUTION})
           FOR UPDATE SKIP LOCKED)`,
      [tenantId, keyId],
    );
  }

  async proxyKeyPrincipal(key: string): Promise<Principal> {
    const tenantId = keyTenant('proxy', key);
    if (!tenantId) throw unauthorized(INVALID_KEY.proxy);
    const digest = hashKey(key).toString('hex');
    const known = this.knownKeys.get(digest);
    if (known) return this.rechecked('proxy', digest, known);
    const [row] = await this.db.readOnce<{ id: string; instance_id: string } & WithTenantStatus>(
      tenantId,
      workingKey('proxy_keys', 'k.id, k.instance_id', tenantId, key),
    );
    if (!row) throw unauthorized(INVALID_KEY.proxy);
    refuseSuspended(row);
    const principal: Principal = {
      kind: 'instance',
      tenantId,
      customerId: null,
      role: 'member',
      subject: row.id,
      instanceId: row.instance_id,
    };
    this.knownKeys.remember(digest, principal);
    return { ...principal };
  }
}
