import { Module } from '@nestjs/common';
import { ApprovalsModule } from '../approvals/approvals.module';
import { EventLogModule } from '../event-log/event-log.module';
import { OutboxModule } from '../outbox/outbox.module';
import { RulesModule } from '../rules/rules.module';
import { WorkflowsModule } from '../workflows/workflows.module';
import { DashboardEventsController } from './dashboard-events.controller';
import { EventEvaluationRepository } from './event-evaluation.repository';
import { EventEvaluator } from './event-evaluator';
import { EventsController } from './events.controller';
import { EventsRepository } from './events.repository';
import { EventsService } from './events.service';
import { RuleActions } from './rule-actions';

/**
 * Events and what rules make of them: the runtime's POSTed events (EventsService), the events
 * HydraCore raises itself (EventEvaluator), both carrying out rules' actions through
 * RuleActions, and the dashboard's view of the log with each event's rule evaluations.
 */
@Module({
  imports: [RulesModule, ApprovalsModule, WorkflowsModule, OutboxModule, EventLogModule],
  controllers: [EventsController, DashboardEventsController],
  providers: [
    EventsService,
    EventsRepository,
    EventEvaluationRepository,
    RuleActions,
    EventEvaluator,
  ],
})
export class EventsModule {}
