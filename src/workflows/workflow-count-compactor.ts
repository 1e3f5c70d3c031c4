import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TenantDb } from '../database/tenant-db';
import { TenantJob } from '../database/tenant-job';
import { WorkflowsRepository } from './workflows.repository';

/** Keeps the list totals' counter rows few, so summing them stays cheap. */
@Injectable()
export class WorkflowCountCompactor extends TenantJob {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    db: TenantDb,
    private readonly repo: WorkflowsRepository,
  ) {
    super(db, config.countsCompactIntervalMs);
  }

  protected forTenant(tenantId: string): Promise<number> {
    return this.db.run(tenantId, () => this.repo.compactCounts(tenantId));
  }
}
