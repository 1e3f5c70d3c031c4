import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TenantDb } from '../database/tenant-db';
import { TenantJob } from '../database/tenant-job';
import { ApprovalsRepository } from './approvals.repository';

const BATCH = 500;

/** Marks pending approvals past expires_at as expired. */
@Injectable()
export class ApprovalSweeper extends TenantJob {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    db: TenantDb,
    private readonly repo: ApprovalsRepository,
  ) {
    super(db, config.sweepIntervalMs);
  }

  protected async forTenant(tenantId: string): Promise<number> {
    let expired = 0;
    for (let n = BATCH; n === BATCH; expired += n) {
      n = await this.db.run(tenantId, () => this.repo.expireDue(tenantId, BATCH));
    }
    return expired;
  }
}
