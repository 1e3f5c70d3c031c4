import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TenantDb } from '../database/tenant-db';
import { TenantBatchJob } from '../database/tenant-job';
import { EventLogRepository } from './event-log.repository';

/**
 * Removes events older than EVENT_RETENTION_DAYS, oldest first, on the sweepers' interval.
 * Each batch raises the tenant's purged_through with its deletes, so a reader whose cursor is
 * before it is told 410 instead of silently missing what went.
 */
@Injectable()
export class EventRetention extends TenantBatchJob {
  private readonly days: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    db: TenantDb,
    private readonly repo: EventLogRepository,
  ) {
    super(db, { everyMs: config.sweepIntervalMs, batch: 1000 });
    this.days = config.eventRetentionDays;
  }

  protected inTransaction(tenantId: string, limit: number): Promise<number> {
    return this.repo.purge(tenantId, this.days, limit);
  }
}
