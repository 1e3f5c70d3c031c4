import { Injectable } from '@nestjs/common';
import { RuleAction } from '../actions';
import { compileMatcher } from '../conditions';
import { Rule } from '../rule.entity';
import { triggerType } from '../trigger-catalog';
import { RuleFiringRepository } from './rule-firing.repository';

export interface CompiledRule {
  id: string;
  name: string;
  customerId: string | null;
  instanceId: string | null;
  ruleKey: string | null;
  /** False on a tenant default that a customer rule of its key must not suppress. */
  allowCustomerOverride: boolean;
  cooldownSeconds: number;
  actions: RuleAction[];
  matches: (payload: Record<string, unknown>) => boolean;
  /**
   * What an event whose payload this rule does not match says of it: one object for the rule's
   * life in the cache, so an event skipping 500 rules allocates no entry for them.
   */
  skipped: SkippedRule;
}

/** A rule whose conditions the event's payload did not meet. */
export interface SkippedRule {
  readonly ruleId: string;
  readonly reason: 'conditions_not_met';
}

interface TenantRules {
  version: number;
  byEvent: Map<string, CompiledRule[]>;
  /** An estimate of what the compiled set holds: the JSON of its conditions and actions. */
  bytes: number;
}

const MAX_TENANTS = 1000;
/**
 * Room for one tenant at the rule limits (1,000 rules of 16 KiB) beside thousands of ordinary
 * ones. Counting tenants alone would let 1,000 tenants with large rule sets hold gigabytes.
 * Compiled, a rule takes a few times its JSON (sets of short strings cost more than their
 * text), so the heap held stays around a hundred megabytes at worst.
 */
export const RULE_CACHE_BUDGET_BYTES = 24 * 1024 * 1024;
/** The fixed part of a compiled rule (ids, closures), beside its conditions and actions. */
const RULE_OVERHEAD_BYTES = 512;

/**
 * Compiled active rules per tenant, grouped by trigger and in priority order. The engine reads
 * the tenant's rule version (bumped by a trigger on every rule write) in the event's transaction
 * and passes it here; a mismatch recompiles, so a rule written on any replica is in force on
 * the next event. Tenants least recently used are dropped past a byte budget.
 */
@Injectable()
export class RuleCache {
  /** Mutable so a test can watch eviction without filling the real budget. */
  budgetBytes = RULE_CACHE_BUDGET_BYTES;
  private readonly tenants = new Map<string, TenantRules>(); // least recently used first
  private held = 0;
  /**
   * Loads under way: a burst of events after a rule change shares one read and compilation of
   * the tenant's rules instead of each holding its own copy of them at once.
   */
  private readonly loading = new Map<string, { version: number; rules: Promise<TenantRules> }>();

  constructor(private readonly repo: RuleFiringRepository) {}

  /** What the cached tenants hold, by the estimate the budget is kept by. */
  get bytes(): number {
    return this.held;
  }

  get size(): number {
    return this.tenants.size;
  }

  /** `version` must have been read in the caller's transaction before this call, never after. */
  async rulesFor(tenantId: string, version: number, event: string): Promise<CompiledRule[]> {
    let cached = this.tenants.get(tenantId);
    if (!cached || cached.version !== version) cached = await this.load(tenantId, version);
    this.keep(tenantId, cached);
    return cached.byEvent.get(event) ?? [];
  }

  /** The triggers some active rule of the tenant names; `version` as for rulesFor. */
  async triggers(tenantId: string, version: number): Promise<ReadonlySet<string>> {
    let cached = this.tenants.get(tenantId);
    if (!cached || cached.version !== version) cached = await this.load(tenantId, version);
    this.keep(tenantId, cached);
    return new Set(cached.byEvent.keys());
  }

  private async load(tenantId: string, version: number): Promise<TenantRules> {
    const pending = this.loading.get(tenantId);
    if (pending && pending.version === version) {
      // Another request's transaction reads the same tenant at the same version. If it fails,
      // this one reads for itself.
      const shared = await pending.rules.catch(() => null);
      if (shared) return shared;
    }
    const rules = this.repo.activeRules(tenantId).then((rows) => compile(version, rows));
    const entry = { version, rules };
    this.loading.set(tenantId, entry);
    try {
      return await rules;
    } finally {
      if (this.loading.get(tenantId) === entry) this.loading.delete(tenantId);
    }
  }

  /** Makes the tenant the most recently used, then drops the least recent past the budget. */
  private keep(tenantId: string, rules: TenantRules): void {
    const old = this.tenants.get(tenantId);
    if (old) {
      this.held -= old.bytes;
      this.tenants.delete(tenantId);
    }
    this.tenants.set(tenantId, rules);
    this.held += rules.bytes;
    // The tenant just used stays even alone over the budget: its event needs it now.
    while (
      this.tenants.size > 1 &&
      (this.held > this.budgetBytes || this.tenants.size > MAX_TENANTS)
    ) {
      const [oldest, evicted] = this.tenants.entries().next().value as [string, TenantRules];
      this.tenants.delete(oldest);
      this.held -= evicted.bytes;
    }
  }
}

function compile(version: number, rules: Rule[]): TenantRules {
  const byEvent = new Map<string, CompiledRule[]>();
  let bytes = 0;
  for (const rule of rules) {
    const trigger = triggerType(rule.triggerEvent);
    if (!trigger) continue;
    bytes +=
      RULE_OVERHEAD_BYTES +
      JSON.stringify(rule.conditions).length +
      JSON.stringify(rule.actions).length;
    const list = byEvent.get(rule.triggerEvent) ?? [];
    list.push({
      id: rule.id,
      name: rule.name,
      customerId: rule.customerId,
      instanceId: rule.instanceId,
      ruleKey: rule.ruleKey,
      allowCustomerOverride: rule.allowCustomerOverride,
      cooldownSeconds: rule.cooldownSeconds,
      actions: rule.actions,
      matches: compileMatcher(trigger, rule.conditions),
      skipped: Object.freeze({ ruleId: rule.id, reason: 'conditions_not_met' }),
    });
    byEvent.set(rule.triggerEvent, list);
  }
  return { version, byEvent, bytes };
}
