import { Module } from '@nestjs/common';
import { DirectoryModule } from '../directory/directory.module';
import { InternalWorkerBindingsController } from './internal-worker-bindings.controller';
import { TenantWorkerBindingsController } from './tenant-worker-bindings.controller';
import { WorkerBindingsRepository } from './worker-bindings.repository';
import { WorkerBindingsService } from './worker-bindings.service';

@Module({
  imports: [DirectoryModule],
  controllers: [InternalWorkerBindingsController, TenantWorkerBindingsController],
  providers: [WorkerBindingsService, WorkerBindingsRepository],
})
export class WorkerBindingsModule {}
