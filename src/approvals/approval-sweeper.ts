import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TenantDb } from '../database/tenant-db';
import { TenantBatchJob } from '../database/tenant-job';
import { ApprovalsRepository } from './approvals.repository';
import { ApprovalsService } from './approvals.service';

/**
 * The longest between two looks for expired approvals: an approval is expired, and its
 * approval.resolved recorded, within seconds of its expires_at.
 */
export const APPROVAL_TIMER_MS = 1_000;

/**
 * Expires pending approvals past expires_at, every second (or more often if the sweep interval
 * says so; a sweep interval of 0 stops it). One read across tenants finds the tenants that have
 * some; each is then done in its own transactions, in batches. Replicas may all run it: a row
 * is claimed with FOR UPDATE SKIP LOCKED, so each approval is expired, and recorded, once.
 * `runOnce` is a pass, for tests.
 */
@Injectable()
export class ApprovalSweeper extends TenantBatchJob {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    db: TenantDb,
    private readonly repo: ApprovalsRepository,
    private readonly approvals: ApprovalsService,
  ) {
    super(db, { everyMs: Math.min(config.sweepIntervalMs, APPROVAL_TIMER_MS), batch: 500 });
  }

  protected override tenants(): Promise<string[]> {
    return this.repo.tenantsWithExpired();
  }

  protected inTransaction(tenantId: string, limit: number): Promise<number> {
    return this.approvals.expireDue(tenantId, limit);
  }
}
