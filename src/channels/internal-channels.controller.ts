import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { InternalAuth } from '../auth/auth.decorators';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { UuidParam } from '../common/params';
import { ChannelsService } from './channels.service';
import { ChannelList, RuntimeChannelsQuery } from './dto/channels.dto';

@ApiTags('Channels')
@Controller('internal/v1/instances/:instance_id/channels')
@InternalAuth()
export class InternalChannelsController {
  constructor(private readonly channels: ChannelsService) {}

  @Get()
  @ApiOperation({
    summary: 'Runtime List Channels',
    description:
      "The instance's own channel endpoints, newest first, optionally filtered by type, " +
      'provider and external identifier (a phone number in any spelling create accepts). ' +
      'Webhook secrets are never returned. Auth: Bearer proxy key.',
  })
  @ApiResponse({ status: 200, type: ChannelList })
  async list(
    @CurrentPrincipal() p: Principal,
    @UuidParam('instance_id') instanceId: string,
    @Query() q: RuntimeChannelsQuery,
  ) {
    return ChannelList.of(await this.channels.listForRuntime(p.tenantId, instanceId, q));
  }
}
