import { Counter, Histogram, Registry } from 'prom-client';

/** The timers whose lateness is measured: each fires an item at a time stored on its row. */
export type TimerKind = 'workflow_due' | 'workflow_expiry' | 'approval_expiry';

/**
 * The app's metrics: one registry per app (tests run several apps in one process), written to
 * by the request hooks and the few domain paths that count something, read by GET /metrics.
 * Domains depend on this file only, never on the collectors that read their services back.
 */
export class Meters {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'http_requests_total',
    help: 'Requests answered, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly requestSeconds = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from the request arriving to its response being sent',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly timerLag = new Histogram({
    name: 'hydracore_timer_lag_seconds',
    help: 'How long after its due time a timer item (workflow due or expiry, approval expiry) was handled',
    labelNames: ['timer'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  private readonly ruleFirings = new Counter({
    name: 'hydracore_rule_firings_total',
    help: 'Rules an event met and logged, by outcome (fired, cooldown, overridden, loop_guard, ...)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** Items of a timer handled now, each due at the given time. */
  timerFired(timer: TimerKind, dueAt: readonly (Date | null)[], now = Date.now()): void {
    for (const at of dueAt) {
      if (at) this.timerLag.observe({ timer }, Math.max(0, now - at.getTime()) / 1000);
    }
  }

  /** Rule outcomes written to the firing log (called once their transaction committed). */
  ruleOutcomes(outcomes: readonly string[]): void {
    for (const outcome of outcomes) this.ruleFirings.inc({ outcome });
  }
}
