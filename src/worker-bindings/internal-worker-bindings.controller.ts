import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { InternalAuth } from '../auth/auth.decorators';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { UuidParam } from '../common/params';
import {
  BindingList,
  BindingLookup,
  CreateBindingDto,
  ListBindingsQuery,
  LookupBindingQuery,
  RebindDto,
} from './dto/worker-bindings.dto';
import { WorkerBinding } from './worker-binding.entity';
import { BindingCaller, WorkerBindingsService } from './worker-bindings.service';
import { Idempotent } from '../database/idempotent';

const caller = (principal: Principal, instanceId: string): BindingCaller => ({
  principal,
  instanceId,
});

@ApiTags('Worker bindings')
@Controller('internal/v1/instances/:instance_id/worker-bindings')
@InternalAuth()
export class InternalWorkerBindingsController {
  constructor(private readonly bindings: WorkerBindingsService) {}

  @Get()
  @ApiOperation({ summary: 'List Bindings', description: 'List all bindings for a customer.' })
  @ApiResponse({ status: 200, type: BindingList })
  async list(
    @CurrentPrincipal() p: Principal,
    @UuidParam('instance_id') instanceId: string,
    @Query() q: ListBindingsQuery,
  ) {
    return BindingList.of(await this.bindings.list(caller(p, instanceId), q.customerId));
  }

  @Get('lookup')
  @ApiOperation({
    summary: 'Look Up Binding',
    description:
      'Who answers on a channel address: the live (unverified or verified) binding of the ' +
      'address in the tenant, made by any of its instances or on the dashboard, with its person ' +
      'and customer. The address may be written in any spelling the binding routes accept. ' +
      '404 when no live binding has it. Auth: Bearer proxy key.',
  })
  @ApiResponse({ status: 200, type: BindingLookup })
  @ApiResponse({ status: 404, description: 'No live binding of this address' })
  lookup(
    @CurrentPrincipal() p: Principal,
    @UuidParam('instance_id') instanceId: string,
    @Query() q: LookupBindingQuery,
  ): Promise<BindingLookup> {
    return this.bindings.lookup(caller(p, instanceId), q.channelType, q.address);
  }

  @Post()
  @Idempotent()
  @ApiOperation({
    summary: 'Create Binding',
    description: 'Create a person-channel binding. Auth: Bearer proxy key.',
  })
  @ApiResponse({ status: 201, type: WorkerBinding })
  create(
    @CurrentPrincipal() p: Principal,
    @UuidParam('instance_id') instanceId: string,
    @Body() dto: CreateBindingDto,
  ): Promise<WorkerBinding> {
    return this.bindings.create(caller(p, instanceId), dto);
  }

  @Post(':binding_id/rebind')
  @Idempotent()
  @ApiOperation({
    summary: 'Rebind Channel',
    description: 'Rebind a worker to a new channel address. Revokes old, creates unverified new.',
  })
  @ApiResponse({ status: 201, type: WorkerBinding })
  rebind(
    @CurrentPrincipal() p: Principal,
    @UuidParam('instance_id') instanceId: string,
    @UuidParam('binding_id') bindingId: string,
    @Body() dto: RebindDto,
  ): Promise<WorkerBinding> {
    return this.bindings.rebind(caller(p, instanceId), bindingId, dto.newAddress);
  }

  @Post(':binding_id/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke Binding', description: 'Revoke a worker-channel binding.' })
  @ApiResponse({ status: 200, type: WorkerBinding })
  revoke(
    @CurrentPrincipal() p: Principal,
    @UuidParam('instance_id') instanceId: string,
    @UuidParam('binding_id') bindingId: string,
  ): Promise<WorkerBinding> {
    return this.bindings.revoke(caller(p, instanceId), bindingId);
  }

  @Post(':binding_id/verify')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Verify Binding',
    description: 'Mark a binding verified once the person has proved the address. Idempotent.',
  })
  @ApiResponse({ status: 200, type: WorkerBinding })
  verify(
    @CurrentPrincipal() p: Principal,
    @UuidParam('instance_id') instanceId: string,
    @UuidParam('binding_id') bindingId: string,
  ): Promise<WorkerBinding> {
    return this.bindings.verify(caller(p, instanceId), bindingId);
  }
}
