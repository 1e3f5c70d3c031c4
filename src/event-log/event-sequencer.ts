import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { Client } from 'pg';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TenantDb } from '../database/tenant-db';
import { DatabaseOutage, outageOf } from '../database/database-outage';
import { EventLogRepository } from './event-log.repository';
import { FeedSignals } from './feed-signals';

/**
 * A look for events left without a position: committed by a replica that stopped before it
 * numbered them, or while this one's pass failed.
 */
const SWEEP_MS = 5_000;
const RECONNECT_MS = 1_000;
/**
 * After a pass woken by commits, the tenant's next such pass waits this long: commits that land
 * meanwhile are numbered together, and the feed's readers (the rule evaluator among them) are
 * woken once for them. Under a steady stream of writes a pass each commit cost more round trips
 * in the background than the writes themselves made; an idle tenant's first commit is numbered
 * at once.
 */
const WAKE_GAP_MS = 100;

/**
 * Gives committed events their feed positions, soon after they commit. The replica whose
 * transaction wrote them is told once it has committed (`committed`), and whichever replica
 * takes the tenant's counter first numbers them (the others find nothing left). The numbering
 * commits with a `hydracore_feed` notification that wakes every replica's long polls of that
 * tenant. A sweep catches what a replica stopping between its commit and its pass left behind.
 *
 * Commits do not NOTIFY: a NOTIFY takes PostgreSQL's notification queue lock at commit, which
 * serialised every request that wrote an event behind every other's commit (the benchmark's
 * event scenarios lost about a tenth of their throughput to it). One NOTIFY per numbering pass,
 * which gathers many commits, costs little.
 */
@Injectable()
export class EventSequencer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventSequencer.name);
  /** Shared with the app's other background jobs: an outage is logged once, not every retry. */
  private readonly outage: DatabaseOutage;
  private listener: Client | null = null;
  private stopped = false;
  private sweepTimer?: NodeJS.Timeout;
  private reconnectTimer?: NodeJS.Timeout;
  /** Per tenant: the pass under way, and whether another was asked for meanwhile. */
  private readonly passes = new Map<string, { again: boolean; done: Promise<void> }>();
  /** Per tenant woken lately: the end of its gap, and whether a commit came during it. */
  private readonly gaps = new Map<string, { woken: boolean; timer?: NodeJS.Timeout }>();

  constructor(
    private readonly db: TenantDb,
    private readonly repo: EventLogRepository,
    private readonly signals: FeedSignals,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.outage = outageOf(db);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.listen();
    void this.sweep(); // what a replica that stopped before numbering left behind
    this.sweepTimer = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweepTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    clearTimeout(this.reconnectTimer);
    for (const gap of this.gaps.values()) clearTimeout(gap.timer);
    await this.listener?.end().catch(() => undefined);
    await Promise.all([...this.passes.values()].map((p) => p.done));
  }

  /** Numbers the tenant's waiting events; a call during a pass runs one more pass after it. */
  sequence(tenantId: string): Promise<void> {
    const current = this.passes.get(tenantId);
    if (current) {
      current.again = true;
      return current.done;
    }
    const pass = { again: false, done: Promise.resolve() };
    pass.done = (async () => {
      const begun = this.outage.begin();
      try {
        do {
          pass.again = false;
          await this.db.run(tenantId, () => this.repo.sequence(tenantId));
        } while (pass.again && !this.stopped);
        this.outage.reached(EventSequencer.name, begun);
      } catch (error) {
        if (!this.outage.failed(EventSequencer.name, error)) {
          this.logger.warn({ tenantId, err: error }, 'events left for the next sweep');
        }
      } finally {
        this.passes.delete(tenantId);
      }
    })();
    this.passes.set(tenantId, pass);
    return pass.done;
  }

  /**
   * A commit of the tenant's events: numbered now if the tenant's last woken pass is over its
   * gap, else once the gap ends, with whatever else committed meanwhile.
   */
  committed(tenantId: string): void {
    const gap = this.gaps.get(tenantId);
    if (gap) {
      gap.woken = true;
      return;
    }
    const started: { woken: boolean; timer?: NodeJS.Timeout } = { woken: false };
    this.gaps.set(tenantId, started);
    void this.sequence(tenantId).then(() => {
      if (this.stopped) return;
      started.timer = setTimeout(() => {
        this.gaps.delete(tenantId);
        if (started.woken) this.committed(tenantId);
      }, WAKE_GAP_MS);
      started.timer.unref();
    });
  }

  /** Sequences every tenant with events waiting; for the sweep and for tests. */
  async sweep(): Promise<void> {
    if (this.stopped) return;
    const begun = this.outage.begin();
    try {
      const tenants = await this.repo.tenantsWaiting();
      this.outage.reached(EventSequencer.name, begun);
      await Promise.all(tenants.map((tenantId) => this.sequence(tenantId)));
    } catch (error) {
      if (this.outage.failed(EventSequencer.name, error)) return;
      this.logger.warn({ err: error }, 'event sweep failed; retrying at the next');
    }
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    // LISTEN needs a session of its own, which a transaction-mode pooler does not keep: the
    // direct URL the migrations use (DATABASE_URL unless set apart).
    const client = new Client({ connectionString: this.config.migrationDatabaseUrl });
    client.on('notification', (message) => {
      if (message.payload) this.signals.wake(message.payload);
    });
    const retry = () => {
      if (this.listener !== client) return;
      this.listener = null;
      client.end().catch(() => undefined);
      if (this.stopped) return;
      this.reconnectTimer = setTimeout(() => void this.listen(), RECONNECT_MS);
      this.reconnectTimer.unref();
    };
    client.on('error', retry);
    client.on('end', retry);
    this.listener = client;
    const begun = this.outage.begin();
    try {
      await client.connect();
      await client.query('LISTEN hydracore_feed');
    } catch (error) {
      if (!this.outage.failed(EventSequencer.name, error)) {
        this.logger.warn({ err: error }, 'event listener could not connect; retrying');
      }
      retry();
      return;
    }
    this.outage.reached(EventSequencer.name, begun);
    // Polls look again: the feed may have grown while nobody listened.
    this.signals.wakeAll();
  }
}
