import { Module } from '@nestjs/common';
import { DashboardEventsController } from './dashboard-events.controller';
import { EventLogRepository } from './event-log.repository';
import { EventLogService } from './event-log.service';
import { EventSequencer } from './event-sequencer';
import { FeedSignals } from './feed-signals';
import { InternalEventFeedController } from './internal-event-feed.controller';

/**
 * The tenant's event log: its feed and the dashboard's view of it. Domains record their events
 * through EventLogService.
 */
@Module({
  controllers: [InternalEventFeedController, DashboardEventsController],
  providers: [EventLogService, EventLogRepository, EventSequencer, FeedSignals],
  exports: [EventLogService],
})
export class EventLogModule {}
