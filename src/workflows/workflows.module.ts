import { Module } from '@nestjs/common';
import { DirectoryModule } from '../directory/directory.module';
import { InternalWorkflowsController } from './internal-workflows.controller';
import { TenantWorkflowsController } from './tenant-workflows.controller';
import { WorkflowCountCompactor } from './workflow-count-compactor';
import { WorkflowSweeper } from './workflow-sweeper';
import { WorkflowsRepository } from './workflows.repository';
import { WorkflowsService } from './workflows.service';

@Module({
  imports: [DirectoryModule],
  controllers: [InternalWorkflowsController, TenantWorkflowsController],
  providers: [WorkflowsService, WorkflowsRepository, WorkflowSweeper, WorkflowCountCompactor],
  exports: [WorkflowsService],
})
export class WorkflowsModule {}
