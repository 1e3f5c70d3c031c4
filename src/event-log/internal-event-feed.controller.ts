import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { InternalAuth } from '../auth/auth.decorators';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { UuidParam } from '../common/params';
import { OwnTransactions } from '../database/own-transactions';
import { EventFeedQuery, EventPage } from './dto/event-feed.dto';
import { EventLogService } from './event-log.service';

@ApiTags('Events')
@Controller('internal/v1/instances/:instance_id/events')
@InternalAuth()
export class InternalEventFeedController {
  constructor(private readonly events: EventLogService) {}

  @Get()
  @OwnTransactions()
  @ApiOperation({
    summary: 'Read Event Feed',
    description:
      "Events of this instance and the tenant's events of no instance, oldest first, strictly " +
      'after the cursor `after`. Paging by `next_after` never skips or repeats an event. With ' +
      '`wait`, an empty page is held until an event arrives or the wait ends (long poll). A ' +
      'cursor older than the oldest retained event is answered 410. Auth: Bearer proxy key.',
  })
  @ApiResponse({ status: 200, type: EventPage })
  @ApiResponse({ status: 410, description: 'The cursor is past retention' })
  feed(
    @CurrentPrincipal() p: Principal,
    @UuidParam('instance_id') instanceId: string,
    @Query() q: EventFeedQuery,
  ): Promise<EventPage> {
    return this.events.feed({ tenantId: p.tenantId, instanceId }, q);
  }
}
