import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TenantDb } from '../database/tenant-db';
import { WorkflowsRepository } from './workflows.repository';

const BATCH = 500;

/** Marks open workflows past expires_at as expired, tenant by tenant, on an interval. */
@Injectable()
export class WorkflowSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WorkflowSweeper.name);
  private timer?: NodeJS.Timeout;
  private running: Promise<number> | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly db: TenantDb,
    private readonly repo: WorkflowsRepository,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.workflowSweepMs > 0) {
      this.timer = setInterval(
        () => void this.sweepOnce().catch((e: unknown) => this.logger.error(e)),
        this.config.workflowSweepMs,
      );
      this.timer.unref();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass over every tenant; a pass still running is joined rather than doubled. */
  sweepOnce(): Promise<number> {
    this.running ??= this.sweep().finally(() => (this.running = null));
    return this.running;
  }

  private async sweep(): Promise<number> {
    let expired = 0;
    for (const tenantId of await this.db.tenantIds()) {
      for (let n = BATCH; n === BATCH; expired += n) {
        n = await this.db.run(tenantId, () => this.repo.expireDue(tenantId, BATCH));
      }
    }
    if (expired > 0) this.logger.log({ expired }, 'expired workflows');
    return expired;
  }
}
