import { tenantOverloaded } from '../common/errors';

interface Waiter {
  admit(): void;
  timer: NodeJS.Timeout;
}

interface Tenant {
  held: number;
  queue: Waiter[];
}

/**
 * Admission to the connection pool, tenant by tenant: at most `max` connections of one tenant
 * at once, its further requests waiting here in arrival order. Without it one tenant's burst
 * (row-lock waiters on one hot workflow, slow reads of its largest rows) takes every pooled
 * connection and every other tenant queues behind it or is refused. A waiter gives up after
 * `waitMs` with 429, so a tenant flooding itself cannot grow this queue without bound either.
 */
export class TenantGate {
  private readonly tenants = new Map<string, Tenant>();

  constructor(
    private readonly max: number,
    private readonly waitMs: number,
  ) {}

  /** Resolves once the tenant may take a connection; pair every success with one `leave`. */
  enter(tenantId: string): Promise<void> {
    let tenant = this.tenants.get(tenantId);
    if (!tenant) {
      tenant = { held: 0, queue: [] };
      this.tenants.set(tenantId, tenant);
    }
    if (tenant.held < this.max) {
      tenant.held++;
      return Promise.resolve();
    }
    const queue = tenant.queue;
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        admit: resolve,
        timer: setTimeout(() => {
          queue.splice(queue.indexOf(waiter), 1);
          reject(tenantOverloaded());
        }, this.waitMs),
      };
      queue.push(waiter);
    });
  }

  /** Hands the connection's place to the tenant's next waiter, or gives it back. */
  leave(tenantId: string): void {
    const tenant = this.tenants.get(tenantId);
    if (!tenant) return;
    const next = tenant.queue.shift();
    if (next) {
      clearTimeout(next.timer);
      next.admit(); // the place passes on: `held` stays as it is
      return;
    }
    if (--tenant.held === 0) this.tenants.delete(tenantId);
  }

  /** Connections held and requests waiting, for tests and metrics. */
  load(tenantId: string): { held: number; waiting: number } {
    const tenant = this.tenants.get(tenantId);
    return { held: tenant?.held ?? 0, waiting: tenant?.queue.length ?? 0 };
  }

  /** Requests waiting across tenants (the tenants holding a connection only: a short list). */
  waiting(): number {
    let n = 0;
    for (const tenant of this.tenants.values()) n += tenant.queue.length;
    return n;
  }
}
