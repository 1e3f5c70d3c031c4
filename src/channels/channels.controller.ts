import { Body, Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Audited } from '../audit/audit-context';
import { DashboardAuth } from '../auth/auth.decorators';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { UuidParam } from '../common/params';
import { ChannelEndpoint } from './channel-endpoint.entity';
import { ChannelsService } from './channels.service';
import { ChannelList, CreateChannelDto, UpdateChannelDto } from './dto/channels.dto';

@ApiTags('Channels')
@Controller('v1/instances/:instance_id/channels')
export class ChannelsController {
  constructor(private readonly channels: ChannelsService) {}

  @Get()
  @DashboardAuth('any')
  @ApiOperation({ summary: 'List Instance Channels' })
  @ApiResponse({ status: 200, type: ChannelList })
  async list(@CurrentPrincipal() p: Principal, @UuidParam('instance_id') instanceId: string) {
    return ChannelList.of(await this.channels.list(p.tenantId, instanceId));
  }

  @Audited()
  @Post()
  @DashboardAuth('tenant-admin')
  @ApiOperation({ summary: 'Create Channel Endpoint' })
  @ApiResponse({ status: 201, type: ChannelEndpoint })
  create(
    @CurrentPrincipal() p: Principal,
    @UuidParam('instance_id') instanceId: string,
    @Body() dto: CreateChannelDto,
  ): Promise<ChannelEndpoint> {
    return this.channels.create(p.tenantId, instanceId, dto);
  }

  @Audited()
  @Patch(':endpoint_id')
  @DashboardAuth('tenant-admin')
  @ApiOperation({ summary: 'Update Channel Endpoint' })
  @ApiResponse({ status: 200, type: ChannelEndpoint })
  update(
    @CurrentPrincipal() p: Principal,
    @UuidParam('instance_id') instanceId: string,
    @UuidParam('endpoint_id') endpointId: string,
    @Body() dto: UpdateChannelDto,
  ): Promise<ChannelEndpoint> {
    return this.channels.update(p.tenantId, instanceId, endpointId, dto);
  }

  @Audited()
  @Delete(':endpoint_id')
  @HttpCode(204)
  @DashboardAuth('tenant-admin')
  @ApiOperation({ summary: 'Delete Channel Endpoint' })
  async delete(
    @CurrentPrincipal() p: Principal,
    @UuidParam('instance_id') instanceId: string,
    @UuidParam('endpoint_id') endpointId: string,
  ): Promise<void> {
    await this.channels.delete(p.tenantId, instanceId, endpointId);
  }
}
