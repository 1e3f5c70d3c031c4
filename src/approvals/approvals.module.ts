import { Module } from '@nestjs/common';
import { DirectoryModule } from '../directory/directory.module';
import { EventLogModule } from '../event-log/event-log.module';
import { OutboxModule } from '../outbox/outbox.module';
import { ApprovalSweeper } from './approval-sweeper';
import { ApprovalsRepository } from './approvals.repository';
import { ApprovalsService } from './approvals.service';
import { InternalApprovalsController } from './internal-approvals.controller';
import { TenantApprovalsController } from './tenant-approvals.controller';

@Module({
  imports: [DirectoryModule, OutboxModule, EventLogModule],
  controllers: [InternalApprovalsController, TenantApprovalsController],
  providers: [ApprovalsService, ApprovalsRepository, ApprovalSweeper],
  exports: [ApprovalsService],
})
export class ApprovalsModule {}
