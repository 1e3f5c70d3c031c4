import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager, IsNull } from 'typeorm';
import { prepared } from '../database/prepared';
import { TenantDb } from '../database/tenant-db';
import { ApiKey, Customer, Instance, Person, ProxyKey, Tenant } from './directory.entities';

type New<T> = Omit<T, 'id' | 'tenantId' | 'createdAt'>;

/** Prepared: every event and most writes that name a customer ask it first. */
const CUSTOMER_EXISTS = prepared(
  `SELECT EXISTS (SELECT 1 FROM customers WHERE tenant_id = $1 AND id = $2) AS found`,
);

/** Directory rows. Every query names its tenant; RLS enforces the same underneath. */
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
    const tenant = Object.assign(new Tenant(), { id, name });
    await manager.insert(Tenant, tenant);
    return tenant;
  }

  listCustomers(tenantId: string): Promise<Customer[]> {
    return this.m.find(Customer, { where: { tenantId }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  findCustomer(tenantId: string, id: string): Promise<Customer | null> {
    return this.m.findOneBy(Customer, { tenantId, id });
  }

  /** A plain statement: TypeORM's findOneBy builds and hydrates a whole entity to say yes. */
  async customerExists(tenantId: string, id: string): Promise<boolean> {
    const [row] = await this.m.query<{ found: boolean }[]>(CUSTOMER_EXISTS, [tenantId, id]);
    return row.found;
  }

  insertCustomer(tenantId: string, values: New<Customer>): Promise<Customer> {
    return this.insert(Customer, tenantId, values);
  }

  listPersons(tenantId: string, customerId: string): Promise<Person[]> {
    return this.m.find(Person, {
      where: { tenantId, customerId },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
  }

  findPersonInTenant(tenantId: string, id: string): Promise<Person | null> {
    return this.m.findOneBy(Person, { tenantId, id });
  }

  findPerson(tenantId: string, customerId: string, id: string): Promise<Person | null> {
    return this.m.findOneBy(Person, { tenantId, customerId, id });
  }

  insertPerson(tenantId: string, values: New<Person>): Promise<Person> {
    return this.insert(Person, tenantId, values);
  }

  listInstances(tenantId: string): Promise<Instance[]> {
    return this.m.find(Instance, { where: { tenantId }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  findInstance(tenantId: string, id: string): Promise<Instance | null> {
    return this.m.findOneBy(Instance, { tenantId, id });
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
      where: { tenantId, instanceId, ...(includeRevoked ? {} : { revokedAt: IsNull() }) },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
  }

  insertProxyKey(tenantId: string, values: New<ProxyKey>): Promise<ProxyKey> {
    return this.insert(ProxyKey, tenantId, values);
  }

  /** Sets revoked_at once; returns false when there was no such live key. */
  async revokeProxyKey(tenantId: string, instanceId: string, id: string): Promise<boolean> {
    const result = await this.m.query(
      `UPDATE proxy_keys SET revoked_at = now()
        WHERE tenant_id = $1 AND instance_id = $2 AND id = $3 AND revoked_at IS NULL`,
      [tenantId, instanceId, id],
    );
    return (result as [unknown, number])[1] > 0;
  }

  listApiKeys(tenantId: string, includeRevoked: boolean): Promise<ApiKey[]> {
    return this.m.find(ApiKey, {
      where: { tenantId, ...(includeRevoked ? {} : { revokedAt: IsNull() }) },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
  }

  insertApiKey(tenantId: string, values: New<ApiKey>): Promise<ApiKey> {
    return this.insert(ApiKey, tenantId, values);
  }

  async revokeApiKey(tenantId: string, id: string): Promise<boolean> {
    const result = await this.m.query(
      `UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL`,
      [tenantId, id],
    );
    return (result as [unknown, number])[1] > 0;
  }
}
