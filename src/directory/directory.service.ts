import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { invalidField, notFound } from '../common/errors';
import { TenantDb } from '../database/tenant-db';
import { issueKey } from '../auth/keys';
import {
  CreateApiKeyDto,
  CreatePersonDto,
  IssuedApiKey,
  IssuedProxyKey,
} from './dto/directory.dto';
import { ApiKey, Customer, Instance, Person, ProxyKey, Tenant } from './directory.entities';
import { DirectoryRepository } from './directory.repository';

@Injectable()
export class DirectoryService {
  constructor(
    private readonly repo: DirectoryRepository,
    private readonly db: TenantDb,
  ) {}

  /** A new tenant's row is written inside its own tenant context, so RLS's WITH CHECK holds. */
  createTenant(name: string): Promise<Tenant> {
    const id = randomUUID();
    return this.db.run(id, (manager) => this.repo.insertTenant(manager, id, name));
  }

  listCustomers(tenantId: string): Promise<Customer[]> {
    return this.repo.listCustomers(tenantId);
  }

  async getCustomer(tenantId: string, id: string): Promise<Customer> {
    return (await this.repo.findCustomer(tenantId, id)) ?? Promise.reject(notFound('Customer'));
  }

  createCustomer(tenantId: string, name: string): Promise<Customer> {
    return this.repo.insertCustomer(tenantId, { name });
  }

  async listPersons(tenantId: string, customerId: string): Promise<Person[]> {
    await this.getCustomer(tenantId, customerId);
    return this.repo.listPersons(tenantId, customerId);
  }

  findPerson(tenantId: string, customerId: string, personId: string): Promise<Person | null> {
    return this.repo.findPerson(tenantId, customerId, personId);
  }

  findPersonInTenant(tenantId: string, personId: string): Promise<Person | null> {
    return this.repo.findPersonInTenant(tenantId, personId);
  }

  customerExists(tenantId: string, id: string): Promise<boolean> {
    return this.repo.customerExists(tenantId, id);
  }

  async createPerson(tenantId: string, customerId: string, dto: CreatePersonDto): Promise<Person> {
    await this.getCustomer(tenantId, customerId);
    return this.repo.insertPerson(tenantId, {
      customerId,
      name: dto.name,
      email: dto.email ?? null,
      phone: dto.phone ?? null,
    });
  }

  listInstances(tenantId: string): Promise<Instance[]> {
    return this.repo.listInstances(tenantId);
  }

  findInstance(tenantId: string, id: string): Promise<Instance | null> {
    return this.repo.findInstance(tenantId, id);
  }

  async getInstance(tenantId: string, id: string): Promise<Instance> {
    return (await this.repo.findInstance(tenantId, id)) ?? Promise.reject(notFound('Instance'));
  }

  createInstance(tenantId: string, name: string): Promise<Instance> {
    return this.repo.insertInstance(tenantId, { name });
  }

  async listProxyKeys(
    tenantId: string,
    instanceId: string,
    includeRevoked = false,
  ): Promise<ProxyKey[]> {
    await this.getInstance(tenantId, instanceId);
    return this.repo.listProxyKeys(tenantId, instanceId, includeRevoked);
  }

  async createProxyKey(tenantId: string, instanceId: string): Promise<IssuedProxyKey> {
    await this.getInstance(tenantId, instanceId);
    const { key, hash, hint } = issueKey('proxy', tenantId);
    const row = await this.repo.insertProxyKey(tenantId, {
      instanceId,
      keyHash: hash,
      keyHint: hint,
      revokedAt: null,
    });
    return Object.assign(new IssuedProxyKey(), row, { key });
  }

  async revokeProxyKey(tenantId: string, instanceId: string, keyId: string): Promise<void> {
    if (!(await this.repo.revokeProxyKey(tenantId, instanceId, keyId))) throw notFound('Proxy key');
  }

  listApiKeys(tenantId: string, includeRevoked = false): Promise<ApiKey[]> {
    return this.repo.listApiKeys(tenantId, includeRevoked);
  }

  async createApiKey(tenantId: string, dto: CreateApiKeyDto): Promise<IssuedApiKey> {
    const customerId = dto.customerId ?? null;
    if (customerId && !(await this.repo.customerExists(tenantId, customerId))) {
      throw invalidField('customerId', 'Customer not found in this tenant');
    }
    const { key, hash, hint } = issueKey('api', tenantId);
    const row = await this.repo.insertApiKey(tenantId, {
      name: dto.name,
      role: dto.role,
      customerId,
      keyHash: hash,
      keyHint: hint,
      revokedAt: null,
    });
    return Object.assign(new IssuedApiKey(), row, { key });
  }

  async revokeApiKey(tenantId: string, id: string): Promise<void> {
    if (!(await this.repo.revokeApiKey(tenantId, id))) throw notFound('API key');
  }
}
