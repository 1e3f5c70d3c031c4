import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { DirectoryModule } from '../directory/directory.module';
import { EventLogModule } from '../event-log/event-log.module';
import { InternalWorkerBindingsController } from './internal-worker-bindings.controller';
import { TenantWorkerBindingsController } from './tenant-worker-bindings.controller';
import { WorkerBindingsRepository } from './worker-bindings.repository';
import { WorkerBindingsService } from './worker-bindings.service';

@Module({
  imports: [AuditModule, DirectoryModule, EventLogModule],
  controllers: [InternalWorkerBindingsController, TenantWorkerBindingsController],
  providers: [WorkerBindingsService, WorkerBindingsRepository],
  exports: [WorkerBindingsService],
})
export class WorkerBindingsModule {}
