import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { EventLogModule } from '../event-log/event-log.module';
import { AuditedWorkflowChanges } from './audited-workflow-changes';
import { InternalWorkflowsController } from './internal-workflows.controller';
import { TenantWorkflowsController } from './tenant-workflows.controller';
import { WorkflowChangesService } from './workflow-changes.service';
import { WorkflowCountCompactor } from './workflow-count-compactor';
import { WorkflowListsRepository } from './workflow-lists.repository';
import { WorkflowSweeper } from './workflow-sweeper';
import { WorkflowsRepository } from './workflows.repository';
import { WorkflowsService } from './workflows.service';

@Module({
  imports: [AuditModule, EventLogModule],
  controllers: [InternalWorkflowsController, TenantWorkflowsController],
  providers: [
    WorkflowsService,
    WorkflowChangesService,
    AuditedWorkflowChanges,
    WorkflowsRepository,
    WorkflowListsRepository,
    WorkflowSweeper,
    WorkflowCountCompactor,
  ],
  exports: [WorkflowsService],
})
export class WorkflowsModule {}
