import { Module } from '@nestjs/common';
import { AuditContextInterceptor } from './audit-context';
import { AuditController } from './audit.controller';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

/** Imported by every domain whose routes write: they record through AuditService. */
@Module({
  controllers: [AuditController],
  providers: [AuditService, AuditRepository, AuditContextInterceptor],
  exports: [AuditService, AuditContextInterceptor],
})
export class AuditModule {}
