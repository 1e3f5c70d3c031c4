import { Module } from '@nestjs/common';
import { ApprovalsModule } from '../approvals/approvals.module';
import { DirectoryModule } from '../directory/directory.module';
import { EventLogModule } from '../event-log/event-log.module';
import { OutboxModule } from '../outbox/outbox.module';
import { RulesModule } from '../rules/rules.module';
import { WorkflowsModule } from '../workflows/workflows.module';
import { EventsController } from './events.controller';
import { EventsRepository } from './events.repository';
import { EventsService } from './events.service';
import { RuleActions } from './rule-actions';

/** The runtime's events and what rules make of them; RuleActions carries out the actions. */
@Module({
  imports: [
    RulesModule,
    DirectoryModule,
    ApprovalsModule,
    WorkflowsModule,
    OutboxModule,
    EventLogModule,
  ],
  controllers: [EventsController],
  providers: [EventsService, EventsRepository, RuleActions],
})
export class EventsModule {}
