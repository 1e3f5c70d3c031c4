import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { DashboardAuth, InternalAuth, PlatformAuth } from '../auth/auth.decorators';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { Audited } from '../audit/audit-context';
import { CarriesSecret } from '../common/carries-secret';
import { listEnvelope } from '../common/list';
import { UuidParam } from '../common/params';
import {
  CreateApiKeyDto,
  CreateNamedDto,
  CreatePersonDto,
  IssuedApiKey,
  IssuedProxyKey,
  KeyListQuery,
  RotateProxyKeyDto,
  TenantListQuery,
  UpdateTenantDto,
} from './dto/directory.dto';
import { ApiKey, Customer, Instance, Person, ProxyKey, Tenant } from './directory.entities';
import { DirectoryService } from './directory.service';

const TenantList = listEnvelope(Tenant, 'tenants');
const CustomerList = listEnvelope(Customer, 'customers');
const PersonList = listEnvelope(Person, 'persons');
const InstanceList = listEnvelope(Instance, 'instances');
const ProxyKeyList = listEnvelope(ProxyKey, 'proxy_keys');
const ApiKeyList = listEnvelope(ApiKey, 'api_keys');

@ApiTags('Platform')
@Controller('platform/v1/tenants')
@PlatformAuth()
export class PlatformController {
  constructor(private readonly directory: DirectoryService) {}

  @Audited()
  @Post()
  @ApiOperation({ summary: 'Create Tenant' })
  @ApiResponse({ status: 201, type: Tenant })
  create(@Body() dto: CreateNamedDto): Promise<Tenant> {
    return this.directory.createTenant(dto.name);
  }

  @Get()
  @ApiOperation({
    summary: 'List Tenants',
    description: 'By id; the next page starts after the last id of this one.',
  })
  @ApiResponse({ status: 200, type: TenantList })
  async list(@Query() query: TenantListQuery) {
    return TenantList.of(await this.directory.listTenants(query));
  }

  @Audited()
  @Patch(':tenant_id')
  @ApiOperation({
    summary: 'Update Tenant',
    description:
      "Suspending refuses every credential of the tenant (403 'Tenant suspended') until it is " +
      'active again; its data stays as it is.',
  })
  @ApiResponse({ status: 200, type: Tenant })
  update(@UuidParam('tenant_id') id: string, @Body() dto: UpdateTenantDto): Promise<Tenant> {
    return this.directory.setTenantStatus(id, dto.status);
  }
}

@ApiTags('Directory')
@Controller('v1/customers')
@DashboardAuth('tenant-admin')
export class CustomersController {
  constructor(private readonly directory: DirectoryService) {}

  @Get()
  @ApiOperation({ summary: 'List Customers' })
  @ApiResponse({ status: 200, type: CustomerList })
  async list(@CurrentPrincipal() p: Principal) {
    return CustomerList.of(await this.directory.listCustomers(p.tenantId));
  }

  @Audited()
  @Post()
  @ApiOperation({ summary: 'Create Customer' })
  @ApiResponse({ status: 201, type: Customer })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateNamedDto): Promise<Customer> {
    return this.directory.createCustomer(p.tenantId, dto.name);
  }

  @Get(':customer_id')
  @ApiOperation({ summary: 'Get Customer' })
  @ApiResponse({ status: 200, type: Customer })
  get(@CurrentPrincipal() p: Principal, @UuidParam('customer_id') id: string): Promise<Customer> {
    return this.directory.getCustomer(p.tenantId, id);
  }

  @Audited()
  @Patch(':customer_id')
  @ApiOperation({ summary: 'Update Customer' })
  @ApiResponse({ status: 200, type: Customer })
  update(
    @CurrentPrincipal() p: Principal,
    @UuidParam('customer_id') id: string,
    @Body() dto: CreateNamedDto,
  ): Promise<Customer> {
    return this.directory.renameCustomer(p.tenantId, id, dto.name);
  }

  @Get(':customer_id/persons')
  @ApiOperation({ summary: 'List Persons' })
  @ApiResponse({ status: 200, type: PersonList })
  async persons(@CurrentPrincipal() p: Principal, @UuidParam('customer_id') id: string) {
    return PersonList.of(await this.directory.listPersons(p.tenantId, id));
  }

  @Audited()
  @Post(':customer_id/persons')
  @ApiOperation({ summary: 'Create Person' })
  @ApiResponse({ status: 201, type: Person })
  createPerson(
    @CurrentPrincipal() p: Principal,
    @UuidParam('customer_id') id: string,
    @Body() dto: CreatePersonDto,
  ): Promise<Person> {
    return this.directory.createPerson(p.tenantId, id, dto);
  }
}

@ApiTags('Directory')
@Controller('v1/instances')
@DashboardAuth('tenant-admin')
export class InstancesController {
  constructor(private readonly directory: DirectoryService) {}

  @Get()
  @ApiOperation({ summary: 'List Instances' })
  @ApiResponse({ status: 200, type: InstanceList })
  async list(@CurrentPrincipal() p: Principal) {
    return InstanceList.of(await this.directory.listInstances(p.tenantId));
  }

  @Audited()
  @Post()
  @ApiOperation({ summary: 'Create Instance' })
  @ApiResponse({ status: 201, type: Instance })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateNamedDto): Promise<Instance> {
    return this.directory.createInstance(p.tenantId, dto.name);
  }

  @Audited()
  @Patch(':instance_id')
  @ApiOperation({ summary: 'Update Instance' })
  @ApiResponse({ status: 200, type: Instance })
  update(
    @CurrentPrincipal() p: Principal,
    @UuidParam('instance_id') id: string,
    @Body() dto: CreateNamedDto,
  ): Promise<Instance> {
    return this.directory.renameInstance(p.tenantId, id, dto.name);
  }

  @Audited()
  @Delete(':instance_id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete Instance',
    description:
      'Its proxy keys stop working at once. Its workflows, bindings and events stay with the ' +
      'tenant and keep naming it.',
  })
  async remove(@CurrentPrincipal() p: Principal, @UuidParam('instance_id') id: string) {
    await this.directory.deleteInstance(p.tenantId, id);
  }

  @Get(':instance_id/proxy-keys')
  @ApiOperation({ summary: 'List Proxy Keys' })
  @ApiResponse({ status: 200, type: ProxyKeyList })
  async proxyKeys(
    @CurrentPrincipal() p: Principal,
    @UuidParam('instance_id') id: string,
    @Query() query: KeyListQuery,
  ) {
    return ProxyKeyList.of(
      await this.directory.listProxyKeys(p.tenantId, id, query.includeRevoked),
    );
  }

  @Audited()
  @Post(':instance_id/proxy-keys')
  @CarriesSecret()
  @ApiOperation({ summary: 'Create Proxy Key', description: 'The key is in this response only.' })
  @ApiResponse({ status: 201, type: IssuedProxyKey })
  createProxyKey(
    @CurrentPrincipal() p: Principal,
    @UuidParam('instance_id') id: string,
  ): Promise<IssuedProxyKey> {
    return this.directory.createProxyKey(p.tenantId, id);
  }

  @Audited()
  @Post(':instance_id/proxy-keys/:key_id/rotate')
  @CarriesSecret()
  @ApiOperation({
    summary: 'Rotate Proxy Key',
    description:
      'A new key, in this response only; the old one keeps working for grace_hours, then is ' +
      'refused.',
  })
  @ApiResponse({ status: 201, type: IssuedProxyKey })
  rotateProxyKey(
    @CurrentPrincipal() p: Principal,
    @UuidParam('instance_id') id: string,
    @UuidParam('key_id') keyId: string,
    @Body() dto: RotateProxyKeyDto,
  ): Promise<IssuedProxyKey> {
    return this.directory.rotateProxyKey(p.tenantId, id, keyId, dto.graceHours);
  }

  @Audited()
  @Delete(':instance_id/proxy-keys/:key_id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke Proxy Key' })
  async revokeProxyKey(
    @CurrentPrincipal() p: Principal,
    @UuidParam('instance_id') id: string,
    @UuidParam('key_id') keyId: string,
  ): Promise<void> {
    await this.directory.revokeProxyKey(p.tenantId, id, keyId);
  }
}

@ApiTags('Directory')
@Controller('v1/api-keys')
@DashboardAuth('tenant-admin')
export class ApiKeysController {
  constructor(private readonly directory: DirectoryService) {}

  @Get()
  @ApiOperation({ summary: 'List API Keys' })
  @ApiResponse({ status: 200, type: ApiKeyList })
  async list(@CurrentPrincipal() p: Principal, @Query() query: KeyListQuery) {
    return ApiKeyList.of(await this.directory.listApiKeys(p.tenantId, query.includeRevoked));
  }

  @Audited()
  @Post()
  @CarriesSecret()
  @ApiOperation({ summary: 'Create API Key', description: 'The key is in this response only.' })
  @ApiResponse({ status: 201, type: IssuedApiKey })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateApiKeyDto): Promise<IssuedApiKey> {
    return this.directory.createApiKey(p.tenantId, dto);
  }

  @Audited()
  @Delete(':key_id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke API Key' })
  async revoke(@CurrentPrincipal() p: Principal, @UuidParam('key_id') id: string): Promise<void> {
    await this.directory.revokeApiKey(p.tenantId, id);
  }
}

@ApiTags('Directory')
@Controller('internal/v1/instances/:instance_id')
@InternalAuth()
export class InternalInstanceController {
  constructor(private readonly directory: DirectoryService) {}

  @Get()
  @ApiOperation({
    summary: 'Get Own Instance',
    description: 'The instance this proxy key belongs to.',
  })
  @ApiResponse({ status: 200, type: Instance })
  get(@CurrentPrincipal() p: Principal, @UuidParam('instance_id') id: string): Promise<Instance> {
    return this.directory.getInstance(p.tenantId, id);
  }
}
