import { Module } from '@nestjs/common';
import { DirectoryModule } from '../directory/directory.module';
import { EventLogModule } from '../event-log/event-log.module';
import { InternalWorkflowsController } from './internal-workflows.controller';
import { TenantWorkflowsController } from './tenant-workflows.controller';
import { WorkflowChangesService } from './workflow-changes.service';
import { WorkflowCountCompactor } from './workflow-count-compactor';
import { WorkflowListsRepository } from './workflow-lists.repository';
import { WorkflowSweeper } from './workflow-sweeper';
import { WorkflowsRepository } from './workflows.repository';
import { WorkflowsService } from './workflows.service';

@Module({
  imports: [DirectoryModule, EventLogModule],
  controllers: [InternalWorkflowsController, TenantWorkflowsController],
  providers: [
    WorkflowsService,
    WorkflowChangesService,
    WorkflowsRepository,
    WorkflowListsRepository,
    WorkflowSweeper,
    WorkflowCountCompactor,
  ],
  exports: [WorkflowsService],
})
export class WorkflowsModule {}
