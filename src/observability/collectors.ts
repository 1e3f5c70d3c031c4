import { Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { Counter, Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { TenantDb } from '../database/tenant-db';
import { OutboxService } from '../outbox/outbox.service';
import { WebhookDispatcher } from '../webhooks/webhook-dispatcher';
import { Meters } from './meters/meters';

/** A backlog count not back within this is left out of the scrape rather than holding it. */
const BACKLOG_TIMEOUT_MS = 2_000;

/**
 * The gauges read when Prometheus scrapes, never on a request: the pool's and the tenant gate's
 * state (in memory), the outbox and webhook backlogs (two counts across tenants, as
 * hydracore_worker), and the webhook dispatcher's counters of this process.
 */
@Injectable()
export class Collectors {
  constructor(
    meters: Meters,
    dataSource: DataSource,
    db: TenantDb,
    outbox: OutboxService,
    webhooks: WebhookDispatcher,
  ) {
    const registers = [meters.registry];
    const pool = () => (dataSource.driver as unknown as { master?: Pool }).master;
    new Gauge({
      name: 'hydracore_db_pool_connections',
      help: 'Connections of the pool, by state (in_use, idle)',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const p = pool();
        this.set({ state: 'in_use' }, p ? p.totalCount - p.idleCount : 0);
        this.set({ state: 'idle' }, p?.idleCount ?? 0);
      },
    });
    new Gauge({
      name: 'hydracore_db_pool_waiting',
      help: 'Queries waiting for a connection of the pool',
      registers,
      collect() {
        this.set(pool()?.waitingCount ?? 0);
      },
    });
    new Gauge({
      name: 'hydracore_tenant_gate_waiting',
      help: "Requests waiting for their tenant's share of the pool",
      registers,
      collect() {
        this.set(db.admission.gate.waiting());
      },
    });
    backlogGauge('hydracore_outbox_backlog', 'Outbox messages still to deliver', () =>
      outbox.backlog(),
    );
    backlogGauge('hydracore_webhook_backlog', 'Webhook deliveries still to make', () =>
      webhooks.backlog(),
    );
    const counters = webhooks.counters;
    new Counter({
      name: 'hydracore_webhook_attempts_total',
      help: 'Webhook attempts made by this process, by result',
      labelNames: ['result'] as const,
      registers,
      collect() {
        this.reset();
        this.inc({ result: 'succeeded' }, counters.attemptsSucceeded);
        this.inc({ result: 'failed' }, counters.attemptsFailed);
      },
    });
    processCounter(
      'hydracore_webhook_deliveries_failed_total',
      'Webhook deliveries given up after their last attempt, by this process',
      () => counters.deliveriesFailed,
    );
    processCounter(
      'hydracore_webhook_endpoints_disabled_total',
      'Webhook endpoints disabled after failing for days, by this process',
      () => counters.endpointsDisabled,
    );

    function backlogGauge(name: string, help: string, count: () => Promise<number>): void {
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          // Unknown (the database down or slow) rather than a zero that looks like no backlog.
          this.set(await withTimeout(count()).catch(() => NaN));
        },
      });
    }

    function processCounter(name: string, help: string, value: () => number): void {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(value());
        },
      });
    }
  }
}

async function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), BACKLOG_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
