import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TenantDb } from '../database/tenant-db';
import { TenantBatchJob } from '../database/tenant-job';
import { WorkflowsRepository } from './workflows.repository';

/** Marks open workflows past expires_at as expired, with a `system` history entry. */
@Injectable()
export class WorkflowSweeper extends TenantBatchJob {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    db: TenantDb,
    private readonly repo: WorkflowsRepository,
  ) {
    super(db, { everyMs: config.sweepIntervalMs, batch: 500 });
  }

  protected inTransaction(tenantId: string, limit: number): Promise<number> {
    return this.repo.expireDue(tenantId, limit);
  }
}
