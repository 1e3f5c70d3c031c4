import { Injectable } from '@nestjs/common';

/** Long polls waiting at once per tenant, per replica; past it a poll answers at once. */
export const MAX_WAITERS_PER_TENANT = 200;

export interface FeedWaiter {
  /** Resolves when the tenant's feed grows, or at the end of the wait. */
  readonly woken: Promise<void>;
  cancel(): void;
}

/**
 * Wakes this replica's long polls when their tenant's feed has grown. The sequencer of any
 * replica announces it through PostgreSQL (NOTIFY), and every replica's listener calls `wake`.
 */
@Injectable()
export class FeedSignals {
  private readonly waiting = new Map<string, Set<() => void>>();
  private readonly growth = new Set<(tenantId: string) => void>();

  /**
   * Starts waiting for the tenant's feed to grow, for at most `ms`. Taken before the read that
   * found nothing, so a growth between that read and the wait is not missed. A tenant with as
   * many polls waiting as a replica holds gets none: null, and its poll answers at once.
   */
  subscribe(tenantId: string, ms: number): FeedWaiter | null {
    let waiters = this.waiting.get(tenantId);
    if (!waiters) {
      waiters = new Set();
      this.waiting.set(tenantId, waiters);
    }
    if (waiters.size >= MAX_WAITERS_PER_TENANT) return null;
    const set = waiters;
    let done!: () => void;
    const woken = new Promise<void>((resolve) => {
      done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.waiting.get(tenantId) === set) this.waiting.delete(tenantId);
        resolve();
      };
    });
    const timer = setTimeout(done, ms);
    set.add(done);
    return { woken, cancel: done };
  }

  wake(tenantId: string): void {
    for (const done of [...(this.waiting.get(tenantId) ?? [])]) done();
    for (const listener of this.growth) listener(tenantId);
  }

  /** Calls `listener` with the tenant's id at each `wake`; returns what stops it. */
  onGrowth(listener: (tenantId: string) => void): () => void {
    this.growth.add(listener);
    return () => {
      this.growth.delete(listener);
    };
  }

  /** Wakes every poll: the listener was away, so any tenant may have news. */
  wakeAll(): void {
    for (const tenantId of [...this.waiting.keys()]) this.wake(tenantId);
  }
}
