import { Module } from '@nestjs/common';
import { ApprovalsModule } from '../approvals/approvals.module';
import { OutboxModule } from '../outbox/outbox.module';
import { WorkflowsModule } from '../workflows/workflows.module';
import { EventsController } from './events.controller';
import { EventsRepository } from './events.repository';
import { EventsService } from './events.service';
import { RuleCache } from './rule-cache';

@Module({
  imports: [ApprovalsModule, WorkflowsModule, OutboxModule],
  controllers: [EventsController],
  providers: [EventsService, EventsRepository, RuleCache],
})
export class EventsModule {}
