import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { conflict, invalidField, notFound } from '../common/errors';
import { TenantDb } from '../database/tenant-db';
import { CredentialStore } from '../auth/credential.store';
import { issueKey } from '../auth/keys';
import { AuditService } from '../audit/audit.service';
import { changesOf } from '../audit/changes';
import {
  CreateApiKeyDto,
  CreatePersonDto,
  IssuedApiKey,
  IssuedProxyKey,
  PROXY_KEY_GRACE_HOURS,
  TENANT_PAGE_DEFAULT,
  TenantListQuery,
  UpdatePersonDto,
} from './dto/directory.dto';
import {
  ApiKey,
  Customer,
  Instance,
  Person,
  ProxyKey,
  Tenant,
  TenantStatus,
} from './directory.entities';
import { DirectoryRepository, ERASED_NAME } from './directory.repository';

const TENANT_FIELDS = ['name', 'status'] as const;
const PERSON_FIELDS = ['customerId', 'name', 'email', 'phone'] as const;
/** Erasure removes these from every route; an append-only log must never hold a copy. */
const PERSONAL_DATA = ['name', 'email', 'phone'] as const;

/** How many a tenant (or, for persons, a customer) may hold: their lists are read whole. */
/**
 * Live API keys are capped too: each has a rate limit of its own, so keys minted without end
 * would multiply a tenant's. (An instance's proxy keys share the instance's.)
 */
export const DIRECTORY_CAPS = {
  customers: 10_000,
  instances: 1_000,
  persons: 10_000,
  api_keys: 100,
} as const;
const CAPPED = {
  customers: 'customers',
  instances: 'instances',
  persons: 'persons',
  api_keys: 'live API keys',
};

@Injectable()
export class DirectoryService {
  constructor(
    private readonly repo: DirectoryRepository,
    private readonly db: TenantDb,
    private readonly credentials: CredentialStore,
    private readonly audit: AuditService,
  ) {}

  /** A new tenant's row is written inside its own tenant context, so RLS's WITH CHECK holds. */
  createTenant(name: string): Promise<Tenant> {
    const id = randomUUID();
    return this.db.run(id, async (manager) => {
      const tenant = await this.repo.insertTenant(manager, id, name);
      await this.audit.created('tenant', tenant, TENANT_FIELDS);
      return tenant;
    });
  }

  listTenants(q: TenantListQuery): Promise<Tenant[]> {
    return this.repo.listTenants(q.after, q.limit ?? TENANT_PAGE_DEFAULT);
  }

  /**
   * Takes effect on this replica's next request and background pass at once, on other replicas
   * within seconds.
   */
  async setTenantStatus(id: string, status: TenantStatus): Promise<Tenant> {
    const tenant = await this.db.run(id, async (m) => {
      const before = await this.repo.lockTenant(m, id);
      if (!before) return null;
      await this.repo.setTenantStatus(m, id, status);
      const after = Object.assign(new Tenant(), before, { status });
      await this.audit.updated('tenant', before, after, TENANT_FIELDS);
      return after;
    });
    this.credentials.forgetTenant(id);
    this.db.suspensions.forget();
    return tenant ?? Promise.reject(notFound('Tenant'));
  }

  listCustomers(tenantId: string): Promise<Customer[]> {
    return this.repo.listCustomers(tenantId);
  }

  async getCustomer(tenantId: string, id: string): Promise<Customer> {
    return (await this.repo.findCustomer(tenantId, id)) ?? Promise.reject(notFound('Customer'));
  }

  async createCustomer(tenantId: string, name: string): Promise<Customer> {
    await this.assertRoom('customers', tenantId, tenantId);
    const customer = await this.repo.insertCustomer(tenantId, { name });
    await this.audit.created('customer', customer, ['name']);
    return customer;
  }

  async renameCustomer(tenantId: string, id: string, name: string): Promise<Customer> {
    const before = await this.repo.lockCustomer(tenantId, id);
    if (!before) throw notFound('Customer');
    if (!(await this.repo.renameCustomer(tenantId, id, name))) throw notFound('Customer');
    const after = await this.getCustomer(tenantId, id);
    await this.audit.updated('customer', before, after, ['name']);
    return after;
  }

  async getPerson(tenantId: string, customerId: string, personId: string): Promise<Person> {
    await this.getCustomer(tenantId, customerId);
    const person = await this.repo.findPerson(tenantId, customerId, personId);
    return person ?? Promise.reject(notFound('Person'));
  }

  /** The person row-locked until the request ends; 404 when it is missing or erased. */
  async lockPerson(tenantId: string, customerId: string, personId: string): Promise<Person> {
    await this.getCustomer(tenantId, customerId);
    const person = await this.repo.lockPerson(tenantId, customerId, personId);
    return person ?? Promise.reject(notFound('Person'));
  }

  async updatePerson(
    tenantId: string,
    customerId: string,
    personId: string,
    dto: UpdatePersonDto,
  ): Promise<Person> {
    const person = await this.lockPerson(tenantId, customerId, personId);
    const before = { ...person };
    const values: Partial<Pick<Person, 'name' | 'email' | 'phone'>> = {};
    if (dto.name !== undefined) values.name = dto.name;
    if (dto.email !== undefined) values.email = dto.email;
    if (dto.phone !== undefined) values.phone = dto.phone;
    const after = Object.keys(values).length
      ? await this.repo.updatePerson(person, values)
      : person;
    await this.audit.updated('person', before, after, PERSON_FIELDS, PERSONAL_DATA);
    return after;
  }

  /** Name, email and phone gone; the row and its id stay. The caller has locked the person. */
  async erasePerson(person: Person): Promise<void> {
    await this.repo.erasePerson(person);
    const erased = { ...person, name: ERASED_NAME, email: null, phone: null };
    await this.audit.record({
      action: 'person.erased',
      targetType: 'person',
      targetId: person.id,
      changes: changesOf(person, erased, PERSON_FIELDS, PERSONAL_DATA),
    });
  }

  async listPersons(tenantId: string, customerId: string): Promise<Person[]> {
    await this.getCustomer(tenantId, customerId);
    return this.repo.listPersons(tenantId, customerId);
  }

  findPerson(tenantId: string, customerId: string, personId: string): Promise<Person | null> {
    return this.repo.findPerson(tenantId, customerId, personId);
  }

  /** The person, held against erasure until the request ends (see the repository's). */
  holdPerson(tenantId: string, customerId: string, personId: string): Promise<Person | null> {
    return this.repo.holdPerson(tenantId, customerId, personId);
  }

  findPersonInTenant(tenantId: string, personId: string): Promise<Person | null> {
    return this.repo.findPersonInTenant(tenantId, personId);
  }

  customerExists(tenantId: string, id: string): Promise<boolean> {
    return this.repo.customerExists(tenantId, id);
  }

  async createPerson(tenantId: string, customerId: string, dto: CreatePersonDto): Promise<Person> {
    await this.getCustomer(tenantId, customerId);
    await this.assertRoom('persons', customerId, tenantId);
    const person = await this.repo.insertPerson(tenantId, {
      customerId,
      name: dto.name,
      email: dto.email ?? null,
      phone: dto.phone ?? null,
      erasedAt: null,
    });
    await this.audit.created('person', person, PERSON_FIELDS, PERSONAL_DATA);
    return person;
  }

  async renameInstance(tenantId: string, id: string, name: string): Promise<Instance> {
    const before = await this.repo.lockInstance(tenantId, id);
    if (!before) throw notFound('Instance');
    if (!(await this.repo.renameInstance(tenantId, id, name))) throw notFound('Instance');
    const after = await this.getInstance(tenantId, id);
    await this.audit.updated('instance', before, after, ['name']);
    return after;
  }

  /**
   * Retires the instance: its proxy keys are revoked in the same statement (their next request
   * is a 401), its channel endpoints are deleted (their addresses free for another instance),
   * and every route answers 404 for it. What it made (workflows, bindings, events) belongs to
   * the tenant's customers and stays, still naming it.
   */
  async deleteInstance(tenantId: string, id: string): Promise<void> {
    const retired = await this.repo.deleteInstance(tenantId, id);
    if (retired === null) throw notFound('Instance');
    await this.audit.record({ action: 'instance.deleted', targetType: 'instance', targetId: id });
    for (const key of retired.keys) {
      await this.recordRevoked('proxy_key', key.id, new Date(key.revokedAt));
    }
    for (const endpointId of retired.endpointIds) {
      await this.audit.record({
        action: 'channel_endpoint.deleted',
        targetType: 'channel_endpoint',
        targetId: endpointId,
      });
    }
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

  async createInstance(tenantId: string, name: string): Promise<Instance> {
    await this.assertRoom('instances', tenantId, tenantId);
    const instance = await this.repo.insertInstance(tenantId, { name, deletedAt: null });
    await this.audit.created('instance', instance, ['name']);
    return instance;
  }

  /**
   * 409, not 422, past a cap: the request is well formed, the scope is full. The caps keep the
   * lists, which are read whole, within what one response may weigh.
   */
  private async assertRoom(
    table: keyof typeof DIRECTORY_CAPS,
    scopeId: string,
    tenantId: string,
  ): Promise<void> {
    if ((await this.repo.countForCreate(table, scopeId, tenantId)) >= DIRECTORY_CAPS[table]) {
      const scope = table === 'persons' ? 'A customer' : 'A tenant';
      const most = DIRECTORY_CAPS[table].toLocaleString('en');
      throw conflict(`${scope} has at most ${most} ${CAPPED[table]}`);
    }
  }

  /**
   * The instance, held against deletion until the request ends (see the repository's): for
   * writes that must not land on an instance being retired, such as a key or an endpoint.
   */
  async holdInstance(tenantId: string, id: string): Promise<Instance> {
    return (await this.repo.holdInstance(tenantId, id)) ?? Promise.reject(notFound('Instance'));
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
    await this.holdInstance(tenantId, instanceId);
    const { key, hash, hint } = issueKey('proxy', tenantId);
    const row = await this.repo.insertProxyKey(tenantId, {
      instanceId,
      keyHash: hash,
      keyHint: hint,
      revokedAt: null,
      expiresAt: null,
    });
    // Keys are named by their fields only: never the key, its hash or its hint.
    await this.audit.created('proxy_key', row, ['instanceId', 'expiresAt']);
    return Object.assign(new IssuedProxyKey(), row, { key });
  }

  /** A new key now; the old one keeps working through its grace, then is refused. */
  async rotateProxyKey(
    tenantId: string,
    instanceId: string,
    keyId: string,
    graceHours = PROXY_KEY_GRACE_HOURS,
  ): Promise<IssuedProxyKey> {
    // The instance before the key, in the order its deletion locks them: no deadlock between.
    await this.holdInstance(tenantId, instanceId);
    const grace = await this.repo.startProxyKeyGrace(tenantId, instanceId, keyId, graceHours);
    if (grace === null) throw notFound('Proxy key');
    if (grace === 'rotated') throw conflict('Proxy key is already rotated');
    await this.audit.record({
      action: 'proxy_key.rotated',
      targetType: 'proxy_key',
      targetId: keyId,
      changes: changesOf({ expiresAt: null }, { expiresAt: grace }, ['expiresAt']),
    });
    return this.createProxyKey(tenantId, instanceId);
  }

  async revokeProxyKey(tenantId: string, instanceId: string, keyId: string): Promise<void> {
    const revokedAt = await this.repo.revokeProxyKey(tenantId, instanceId, keyId);
    if (!revokedAt) throw notFound('Proxy key');
    await this.recordRevoked('proxy_key', keyId, revokedAt);
  }

  listApiKeys(tenantId: string, includeRevoked = false): Promise<ApiKey[]> {
    return this.repo.listApiKeys(tenantId, includeRevoked);
  }

  async createApiKey(tenantId: string, dto: CreateApiKeyDto): Promise<IssuedApiKey> {
    const customerId = dto.customerId ?? null;
    if (customerId && !(await this.repo.customerExists(tenantId, customerId))) {
      throw invalidField('customerId', 'Customer not found in this tenant');
    }
    const expiresAt = dto.expiresAt ? new Date(dto.expiresAt) : null;
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      throw invalidField('expiresAt', 'expires_at must be in the future');
    }
    await this.assertRoom('api_keys', tenantId, tenantId);
    const { key, hash, hint } = issueKey('api', tenantId);
    const row = await this.repo.insertApiKey(tenantId, {
      name: dto.name,
      role: dto.role,
      customerId,
      keyHash: hash,
      keyHint: hint,
      revokedAt: null,
      expiresAt,
      lastUsedAt: null,
    });
    await this.audit.created('api_key', row, ['name', 'role', 'customerId', 'expiresAt']);
    return Object.assign(new IssuedApiKey(), row, { key });
  }

  async revokeApiKey(tenantId: string, id: string): Promise<void> {
    const revokedAt = await this.repo.revokeApiKey(tenantId, id);
    if (!revokedAt) throw notFound('API key');
    await this.recordRevoked('api_key', id, revokedAt);
  }

  private recordRevoked(type: 'api_key' | 'proxy_key', id: string, at: Date): Promise<void> {
    return this.audit.record({
      action: `${type}.revoked`,
      targetType: type,
      targetId: id,
      changes: changesOf({ revokedAt: null }, { revokedAt: at }, ['revokedAt']),
    });
  }
}
