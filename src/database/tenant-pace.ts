/**
 * How fast each tenant may draw JSON documents out of the database: a token bucket per tenant,
 * `bytesPerSecond` refilled up to `burst`. A document costs the database, the API and the
 * machine's network stack in proportion to its size (turned into text, carried, sent), far more
 * than a request of its own suggests: a tenant rereading its heaviest rows back to back would
 * otherwise take the machine from every other tenant. Requests are charged when answered and a
 * tenant in debt waits before its next one; a tenant within its pace never waits.
 */
export class TenantPace {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly bytesPerSecond: number,
    private readonly burst: number,
  ) {}

  /** Takes `bytes` from the tenant's bucket, into debt if need be. */
  charge(tenantId: string, bytes: number, now = Date.now()): void {
    const tokens = this.tokens(tenantId, now) - bytes;
    if (tokens >= this.burst) this.buckets.delete(tenantId);
    else this.buckets.set(tenantId, { tokens, at: now });
    if (this.buckets.size > MAX_TRACKED) this.prune(now);
  }

  /** Milliseconds until the tenant is out of debt: 0 for one within its pace. */
  debtMs(tenantId: string, now = Date.now()): number {
    const tokens = this.tokens(tenantId, now);
    return tokens >= 0 ? 0 : Math.ceil((-tokens * 1000) / this.bytesPerSecond);
  }

  private tokens(tenantId: string, now: number): number {
    const bucket = this.buckets.get(tenantId);
    if (!bucket) return this.burst;
    return Math.min(this.burst, bucket.tokens + ((now - bucket.at) * this.bytesPerSecond) / 1000);
  }

  /** Forgets tenants whose bucket has refilled: only recent heavy readers are remembered. */
  private prune(now: number): void {
    for (const tenantId of this.buckets.keys()) {
      if (this.tokens(tenantId, now) >= this.burst) this.buckets.delete(tenantId);
    }
  }
}

/** Past this many tenants in the map, refilled ones are swept out. */
const MAX_TRACKED = 10_000;
