import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { InternalAuth } from '../auth/auth.decorators';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { UuidParam } from '../common/params';
import { EventDto, EventOutcome } from './dto/events.dto';
import { EventsService } from './events.service';
import { Idempotent } from '../database/idempotent';

@ApiTags('Events')
@Controller('internal/v1/instances/:instance_id/events')
@InternalAuth()
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Post()
  @Idempotent()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Report Event',
    description:
      "The runtime reports an event before it acts or when something happens; the tenant's effective rules fire and the answer carries the decision: allow, require_approval or block.",
  })
  @ApiResponse({ status: 200, type: EventOutcome })
  report(
    @CurrentPrincipal() p: Principal,
    @UuidParam('instance_id') instanceId: string,
    @Body() dto: EventDto,
  ): Promise<unknown> {
    return this.events.handle(p, instanceId, dto);
  }
}
