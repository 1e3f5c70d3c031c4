import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import {
  ApiKeysController,
  CustomersController,
  InstancesController,
  InternalInstanceController,
  PlatformController,
} from './directory.controllers';
import { DirectoryRepository } from './directory.repository';
import { DirectoryService } from './directory.service';

@Module({
  imports: [AuditModule],
  controllers: [
    PlatformController,
    CustomersController,
    InstancesController,
    ApiKeysController,
    InternalInstanceController,
  ],
  providers: [DirectoryService, DirectoryRepository],
  exports: [DirectoryService],
})
export class DirectoryModule {}
