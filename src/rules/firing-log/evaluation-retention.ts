import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { TenantDb } from '../../database/tenant-db';
import { TenantBatchJob } from '../../database/tenant-job';
import { FiringLogService } from './firing-log.service';

/**
 * Keeps the firing log as long as events are kept (EVENT_RETENTION_DAYS), on the sweepers'
 * interval: the oldest events' evaluations first, a batch of events per transaction.
 */
@Injectable()
export class EvaluationRetention extends TenantBatchJob {
  private readonly days: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    db: TenantDb,
    private readonly log: FiringLogService,
  ) {
    super(db, { everyMs: config.sweepIntervalMs, batch: 1000 });
    this.days = config.eventRetentionDays;
  }

  protected inTransaction(tenantId: string, limit: number): Promise<number> {
    return this.log.purge(tenantId, this.days, limit);
  }
}
