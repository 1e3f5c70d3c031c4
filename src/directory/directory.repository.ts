import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager, IsNull, MoreThan } from 'typeorm';
import { prepared } from '../database/prepared';
import { LIST_MOST } from '../common/list';
import { TenantDb } from '../database/tenant-db';
import { customerExistsSql } from './customer-sql';
import { takeTurn } from '../database/turns';
import { sqlLiteral } from '../database/tenant-sql';
import {
  ApiKey,
  Customer,
  Instance,
  Person,
  ProxyKey,
  Tenant,
  TenantStatus,
} from './directory.entities';

type New<T> = Omit<T, 'id' | 'tenantId' | 'createdAt'>;

/** A proxy key revoked with its instance (revokedAt as JSON gives it: an ISO string). */
export interface RevokedKey {
  id: string;
  revokedAt: string;
}

/** What an erased person's name becomes: the column requires one, and it identifies nobody. */
export const ERASED_NAME = 'erased';

/**
 * Prepared: binding, rule and API-key writes that name a customer ask it first. Workflows and
 * approvals leave it to their insert's key (customer-reference.ts); events read it with their
 * rules version (customer-sql.ts).
 */
const CUSTOMER_EXISTS = prepared(`SELECT ${customerExistsSql('$1', '$2')} AS found`);

/** Directory rows. Every query names its tenant; RLS enforces the same underneath. */
/** Class of the advisory lock that serialises creations counted against a cap ('DIRC'). */
const DIRECTORY_COUNT_LOCK = 0x44495243;

@Injectable()
export class DirectoryRepository {
  constructor(private readonly db: TenantDb) {}

  private get m(): EntityManager {
    return this.db.manager;
  }

  private async insert<T extends object>(
    entity: new () => T,
    tenantId: string,
    values: object,
  ): Promise<T> {
    const row = Object.assign(new entity(), { id: randomUUID(), tenantId, ...values });
    await this.m.insert(entity, row); // RETURNING fills created_at from the database clock
    return row;
  }

  /** Tenants have no tenant_id: the row is its own tenant, so insert within its context. */
  async insertTenant(manager: EntityManager, id: string, name: string): Promise<Tenant> {
    const tenant = Object.assign(new Tenant(), { id, name, status: 'active' });
    await manager.insert(Tenant, tenant);
    return tenant;
  }

  /**
   * A page of tenants by id, read as the platform's cross-tenant role: outside any tenant, RLS
   * shows a tenant's row nowhere else. That role's reads take no parameters (values are
   * written in through `sqlLiteral`, the limit is a checked integer).
   */
  async listTenants(after: string | undefined, limit: number): Promise<Tenant[]> {
    if (!Number.isInteger(limit) || limit < 1) throw new Error('limit must be a positive integer');
    const rows = await this.db.asWorker<
      Pick<Tenant, 'id' | 'name' | 'status'> & { created_at: Date }
    >(
      `SELECT id, name, status, created_at FROM tenants
        ${after === undefined ? '' : `WHERE id > ${sqlLiteral(after.toLowerCase(), 'uuid')}`}
        ORDER BY id LIMIT ${limit}`,
    );
    return rows.map(({ created_at: createdAt, ...row }) =>
      Object.assign(new Tenant(), { ...row, createdAt }),
    );
  }

  /** Row-locked until the transaction ends, so that its change is audited from what it was. */
  lockTenant(manager: EntityManager, id: string): Promise<Tenant | null> {
    return manager.findOne(Tenant, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  /** Run in the tenant's own context: RLS shows a tenant its own row only. */
  async setTenantStatus(manager: EntityManager, id: string, status: TenantStatus): Promise<void> {
    await manager.update(Tenant, { id }, { status });
  }

  /**
   * Rows of `table` under `scope` (the tenant, or a customer), counted after taking the scope's
   * turn to create one: creations in one scope are serialised, so none passes a cap unseen.
   */
  async countForCreate(
    table: 'customers' | 'instances' | 'persons' | 'api_keys',
    scopeId: string,
    tenantId: string,
  ): Promise<number> {
    await takeTurn(this.m, DIRECTORY_COUNT_LOCK, `${table}:${scopeId}`);
    const where = {
      customers: 'tenant_id = $1',
      instances: 'tenant_id = $1 AND deleted_at IS NULL',
      persons: 'tenant_id = $1 AND customer_id = $2 AND erased_at IS NULL',
      api_keys:
        'tenant_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())',
    }[table];
    const params = table === 'persons' ? [tenantId, scopeId] : [tenantId];
    const [row] = await this.m.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM ${table} WHERE ${where}`,
      params,
    );
    return row.n;
  }

  listCustomers(tenantId: string): Promise<Customer[]> {
    return this.m.find(Customer, { where: { tenantId }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  findCustomer(tenantId: string, id: string): Promise<Customer | null> {
    return this.m.findOneBy(Customer, { tenantId, id });
  }

  /** Row-locked until the request ends: a rename is audited from the name it replaced. */
  lockCustomer(tenantId: string, id: string): Promise<Customer | null> {
    return this.m.findOne(Customer, {
      where: { tenantId, id },
      lock: { mode: 'pessimistic_write' },
    });
  }

  /** A plain statement: TypeORM's findOneBy builds and hydrates a whole entity to say yes. */
  async customerExists(tenantId: string, id: string): Promise<boolean> {
    const [row] = await this.m.query<{ found: boolean }[]>(CUSTOMER_EXISTS, [tenantId, id]);
    return row.found;
  }

  insertCustomer(tenantId: string, values: New<Customer>): Promise<Customer> {
    return this.insert(Customer, tenantId, values);
  }

  async renameCustomer(tenantId: string, id: string, name: string): Promise<boolean> {
    const result = await this.m.update(Customer, { tenantId, id }, { name });
    return (result.affected ?? 0) > 0;
  }

  listPersons(tenantId: string, customerId: string): Promise<Person[]> {
    return this.m.find(Person, {
      where: { tenantId, customerId, erasedAt: IsNull() },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
  }

  findPersonInTenant(tenantId: string, id: string): Promise<Person | null> {
    return this.m.findOneBy(Person, { tenantId, id, erasedAt: IsNull() });
  }

  findPerson(tenantId: string, customerId: string, id: string): Promise<Person | null> {
    return this.m.findOneBy(Person, { tenantId, customerId, id, erasedAt: IsNull() });
  }

  /** The person, row-locked until the request ends: its changes and erasure are serialised. */
  lockPerson(tenantId: string, customerId: string, id: string): Promise<Person | null> {
    return this.m.findOne(Person, {
      where: { tenantId, customerId, id, erasedAt: IsNull() },
      lock: { mode: 'pessimistic_write' },
    });
  }

  /**
   * The person, locked FOR KEY SHARE until the request ends, for a request that gives them a
   * binding. Their erasure locks the row FOR UPDATE before it tombstones their bindings, so
   * either it waits for the new binding to commit and tombstones it too, or this waits for the
   * erasure and then finds no person. Shared: one person's new bindings do not queue.
   */
  holdPerson(tenantId: string, customerId: string, id: string): Promise<Person | null> {
    return this.m.findOne(Person, {
      where: { tenantId, customerId, id, erasedAt: IsNull() },
      lock: { mode: 'for_key_share' },
    });
  }

  async updatePerson(person: Person, values: Partial<Pick<Person, 'name' | 'email' | 'phone'>>) {
    await this.m.update(Person, { tenantId: person.tenantId, id: person.id }, values);
    return Object.assign(person, values);
  }

  async erasePerson(person: Person): Promise<void> {
    await this.m.update(
      Person,
      { tenantId: person.tenantId, id: person.id },
      { name: ERASED_NAME, email: null, phone: null, erasedAt: () => 'now()' },
    );
  }

  insertPerson(tenantId: string, values: New<Person>): Promise<Person> {
    return this.insert(Person, tenantId, values);
  }

  listInstances(tenantId: string): Promise<Instance[]> {
    return this.m.find(Instance, {
      where: { tenantId, deletedAt: IsNull() },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
  }

  findInstance(tenantId: string, id: string): Promise<Instance | null> {
    return this.m.findOneBy(Instance, { tenantId, id, deletedAt: IsNull() });
  }

  /** Row-locked until the request ends: renames and the deletion are serialised. */
  lockInstance(tenantId: string, id: string): Promise<Instance | null> {
    return this.m.findOne(Instance, {
      where: { tenantId, id, deletedAt: IsNull() },
      lock: { mode: 'pessimistic_write' },
    });
  }

  /**
   * The instance, locked FOR KEY SHARE until the request ends, for a request that gives it a
   * key. Its deletion locks the row FOR UPDATE before it revokes the instance's keys, so either
   * it waits for the new key to commit and revokes it too, or this waits for the deletion and
   * then finds no instance. Shared: keys made at once do not queue.
   */
  holdInstance(tenantId: string, id: string): Promise<Instance | null> {
    return this.m.findOne(Instance, {
      where: { tenantId, id, deletedAt: IsNull() },
      lock: { mode: 'for_key_share' },
    });
  }

  async renameInstance(tenantId: string, id: string, name: string): Promise<boolean> {
    const result = await this.m.update(Instance, { tenantId, id, deletedAt: IsNull() }, { name });
    return (result.affected ?? 0) > 0;
  }

  /**
   * Retires the instance, revokes its keys and deletes its channel endpoints in one statement,
   * after locking it (see holdInstance): the statement then sees every key and endpoint
   * committed before it. An endpoint holds its address's platform-wide routing key, which a
   * retired instance must give back. What it revoked and deleted, or null when there was no such
   * instance.
   */
  async deleteInstance(
    tenantId: string,
    id: string,
  ): Promise<{ keys: RevokedKey[]; endpointIds: string[] } | null> {
    if (!(await this.lockInstance(tenantId, id))) return null;
    const [row] = await this.m.query<
      { deleted: boolean; keys: RevokedKey[]; endpoint_ids: string[] }[]
    >(
      `WITH gone AS (
         UPDATE instances SET deleted_at = now()
          WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING id),
       keys AS (
         UPDATE proxy_keys SET revoked_at = now()
          WHERE tenant_id = $1 AND instance_id IN (SELECT id FROM gone) AND revoked_at IS NULL
          RETURNING id, revoked_at),
       endpoints AS (
         DELETE FROM channel_endpoints
          WHERE tenant_id = $1 AND instance_id IN (SELECT id FROM gone) RETURNING id)
       SELECT EXISTS (SELECT 1 FROM gone) AS deleted,
              coalesce((SELECT json_agg(json_build_object('id', id, 'revokedAt', revoked_at)
                                        ORDER BY id) FROM keys), '[]') AS keys,
              coalesce((SELECT json_agg(id ORDER BY id) FROM endpoints), '[]') AS endpoint_ids`,
      [tenantId, id],
    );
    return row.deleted ? { keys: row.keys, endpointIds: row.endpoint_ids } : null;
  }

  insertInstance(tenantId: string, values: New<Instance>): Promise<Instance> {
    return this.insert(Instance, tenantId, values);
  }

  listProxyKeys(
    tenantId: string,
    instanceId: string,
    includeRevoked: boolean,
  ): Promise<ProxyKey[]> {
    return this.m.find(ProxyKey, {
      where: includeRevoked
        ? { tenantId, instanceId }
        : [
            { tenantId, instanceId, revokedAt: IsNull(), expiresAt: IsNull() },
            { tenantId, instanceId, revokedAt: IsNull(), expiresAt: MoreThan(new Date()) },
          ],
      order: { createdAt: 'DESC', id: 'DESC' },
      take: LIST_MOST,
    });
  }

  /**
   * Starts a working key's grace: it stops working `graceHours` from now (the database's
   * clock, which the credential lookup compares with); returns that end. Null when there is no
   * working key of that id; 'rotated' when its grace is already running.
   */
  async startProxyKeyGrace(
    tenantId: string,
    instanceId: string,
    id: string,
    graceHours: number,
  ): Promise<Date | 'rotated' | null> {
    const [row] = await this.m.query<{ expires_at: Date | null }[]>(
      `SELECT expires_at FROM proxy_keys
        WHERE tenant_id = $1 AND instance_id = $2 AND id = $3 AND revoked_at IS NULL
          AND (expires_at IS NULL OR expires_at > now())
        FOR UPDATE`,
      [tenantId, instanceId, id],
    );
    if (!row) return null;
    if (row.expires_at !== null) return 'rotated';
    const [[started]] = await this.m.query<[{ expires_at: Date }[], number]>(
      `UPDATE proxy_keys SET expires_at = now() + make_interval(hours => $4)
        WHERE tenant_id = $1 AND instance_id = $2 AND id = $3 RETURNING expires_at`,
      [tenantId, instanceId, id, graceHours],
    );
    return started.expires_at;
  }

  insertProxyKey(tenantId: string, values: New<ProxyKey>): Promise<ProxyKey> {
    return this.insert(ProxyKey, tenantId, values);
  }

  /** Sets revoked_at once and returns it; null when there was no such live key. */
  async revokeProxyKey(tenantId: string, instanceId: string, id: string): Promise<Date | null> {
    const [rows] = await this.m.query<[{ revoked_at: Date }[], number]>(
      `UPDATE proxy_keys SET revoked_at = now()
        WHERE tenant_id = $1 AND instance_id = $2 AND id = $3 AND revoked_at IS NULL
        RETURNING revoked_at`,
      [tenantId, instanceId, id],
    );
    return rows[0]?.revoked_at ?? null;
  }

  listApiKeys(tenantId: string, includeRevoked: boolean): Promise<ApiKey[]> {
    return this.m.find(ApiKey, {
      where: includeRevoked
        ? { tenantId }
        : [
            { tenantId, revokedAt: IsNull(), expiresAt: IsNull() },
            { tenantId, revokedAt: IsNull(), expiresAt: MoreThan(new Date()) },
          ],
      order: { createdAt: 'DESC', id: 'DESC' },
      take: LIST_MOST,
    });
  }

  insertApiKey(tenantId: string, values: New<ApiKey>): Promise<ApiKey> {
    return this.insert(ApiKey, tenantId, values);
  }

  /** Sets revoked_at once and returns it; null when there was no such live key. */
  async revokeApiKey(tenantId: string, id: string): Promise<Date | null> {
    const [rows] = await this.m.query<[{ revoked_at: Date }[], number]>(
      `UPDATE api_keys SET revoked_at = now()
        WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING revoked_at`,
      [tenantId, id],
    );
    return rows[0]?.revoked_at ?? null;
  }
}
