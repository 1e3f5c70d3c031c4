import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Audited } from '../audit/audit-context';
import { DashboardAuth } from '../auth/auth.decorators';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { UuidParam } from '../common/params';
import { BindingList, CreateBindingDto, RebindDto } from './dto/worker-bindings.dto';
import { WorkerBinding } from './worker-binding.entity';
import { BindingCaller, WorkerBindingsService } from './worker-bindings.service';

const caller = (principal: Principal, customerId: string): BindingCaller => ({
  principal,
  instanceId: null,
  pathCustomerId: customerId,
});

@ApiTags('Worker bindings')
@Controller('v1/customers/:customer_id/worker-bindings')
@DashboardAuth('admin')
export class TenantWorkerBindingsController {
  constructor(private readonly bindings: WorkerBindingsService) {}

  @Get()
  @ApiOperation({
    summary: 'Tenant List Bindings',
    description: 'List worker-channel bindings for a customer. Auth: JWT (admin only).',
  })
  @ApiResponse({ status: 200, type: BindingList })
  async list(@CurrentPrincipal() p: Principal, @UuidParam('customer_id') customerId: string) {
    return BindingList.of(await this.bindings.list(caller(p, customerId), customerId));
  }

  @Audited()
  @Post()
  @ApiOperation({
    summary: 'Tenant Create Binding',
    description: 'Create a worker-channel binding. Auth: JWT (admin only).',
  })
  @ApiResponse({ status: 201, type: WorkerBinding })
  create(
    @CurrentPrincipal() p: Principal,
    @UuidParam('customer_id') customerId: string,
    @Body() dto: CreateBindingDto,
  ): Promise<WorkerBinding> {
    return this.bindings.create(caller(p, customerId), dto);
  }

  @Audited()
  @Post(':binding_id/rebind')
  @ApiOperation({
    summary: 'Tenant Rebind',
    description: 'Rebind a worker to a new address. Auth: JWT (admin only).',
  })
  @ApiResponse({ status: 201, type: WorkerBinding })
  rebind(
    @CurrentPrincipal() p: Principal,
    @UuidParam('customer_id') customerId: string,
    @UuidParam('binding_id') bindingId: string,
    @Body() dto: RebindDto,
  ): Promise<WorkerBinding> {
    return this.bindings.rebind(caller(p, customerId), bindingId, dto.newAddress);
  }

  @Audited()
  @Post(':binding_id/revoke')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Tenant Revoke Binding',
    description: 'Revoke a worker-channel binding. Auth: JWT (admin only).',
  })
  @ApiResponse({ status: 200, type: WorkerBinding })
  revoke(
    @CurrentPrincipal() p: Principal,
    @UuidParam('customer_id') customerId: string,
    @UuidParam('binding_id') bindingId: string,
  ): Promise<WorkerBinding> {
    return this.bindings.revoke(caller(p, customerId), bindingId);
  }
}
