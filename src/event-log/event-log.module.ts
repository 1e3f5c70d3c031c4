import { Module } from '@nestjs/common';
import { EventLogRepository } from './event-log.repository';
import { EventLogService } from './event-log.service';
import { EventRetention } from './event-retention';
import { EventSequencer } from './event-sequencer';
import { FeedSignals } from './feed-signals';
import { InternalEventFeedController } from './internal-event-feed.controller';

/**
 * The tenant's event log: its feed and its retention. Domains record their events through
 * EventLogService; the dashboard's view of it is in events/, beside what rules made of each.
 */
@Module({
  controllers: [InternalEventFeedController],
  providers: [EventLogService, EventLogRepository, EventSequencer, FeedSignals, EventRetention],
  exports: [EventLogService],
})
export class EventLogModule {}
