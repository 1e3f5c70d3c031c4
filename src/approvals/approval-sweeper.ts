import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TenantDb } from '../database/tenant-db';
import { TenantBatchJob } from '../database/tenant-job';
import { ApprovalsRepository } from './approvals.repository';

/** Marks pending approvals past expires_at as expired. */
@Injectable()
export class ApprovalSweeper extends TenantBatchJob {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    db: TenantDb,
    private readonly repo: ApprovalsRepository,
  ) {
    super(db, { everyMs: config.sweepIntervalMs, batch: 500 });
  }

  protected inTransaction(tenantId: string, limit: number): Promise<number> {
    return this.repo.expireDue(tenantId, limit);
  }
}
