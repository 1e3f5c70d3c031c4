import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TenantDb } from '../database/tenant-db';
import { TenantBatchJob } from '../database/tenant-job';
import { WorkflowListsRepository } from './workflow-lists.repository';

/** Keeps the list totals' counter rows few, so summing them stays cheap. */
@Injectable()
export class WorkflowCountCompactor extends TenantBatchJob {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    db: TenantDb,
    private readonly lists: WorkflowListsRepository,
  ) {
    super(db, { everyMs: config.countsCompactIntervalMs });
  }

  protected inTransaction(tenantId: string): Promise<number> {
    return this.lists.compactCounts(tenantId);
  }
}
