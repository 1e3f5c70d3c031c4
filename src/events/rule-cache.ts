import { Injectable } from '@nestjs/common';
import { RuleAction } from '../rules/actions';
import { compileMatcher } from '../rules/conditions';
import { Rule } from '../rules/rule.entity';
import { triggerType } from '../rules/trigger-catalog';
import { EventsRepository } from './events.repository';

export interface CompiledRule {
  id: string;
  name: string;
  customerId: string | null;
  instanceId: string | null;
  ruleKey: string | null;
  cooldownSeconds: number;
  actions: RuleAction[];
  matches: (payload: Record<string, unknown>) => boolean;
}

interface TenantRules {
  version: number;
  byEvent: Map<string, CompiledRule[]>;
}

const MAX_TENANTS = 1000;

/**
 * Compiled active rules per tenant, grouped by trigger and in priority order. Each event reads
 * its tenant's rule version (bumped by a trigger on every rule write) in its own transaction
 * and passes it here; a mismatch recompiles, so a rule written on any replica is in force on
 * the next event.
 */
@Injectable()
export class RuleCache {
  private readonly tenants = new Map<string, TenantRules>();

  constructor(private readonly repo: EventsRepository) {}

  /** `version` must have been read in the caller's transaction before this call, never after. */
  async rulesFor(tenantId: string, version: number, event: string): Promise<CompiledRule[]> {
    let cached = this.tenants.get(tenantId);
    if (!cached || cached.version !== version) {
      cached = { version, byEvent: compile(await this.repo.activeRules(tenantId)) };
      this.tenants.delete(tenantId);
      if (this.tenants.size >= MAX_TENANTS)
        this.tenants.delete(this.tenants.keys().next().value as string);
    }
    this.tenants.set(tenantId, cached); // re-inserted: the Map's order is least recently used first
    return cached.byEvent.get(event) ?? [];
  }
}

function compile(rules: Rule[]): Map<string, CompiledRule[]> {
  const byEvent = new Map<string, CompiledRule[]>();
  for (const rule of rules) {
    const trigger = triggerType(rule.triggerEvent);
    if (!trigger) continue;
    const list = byEvent.get(rule.triggerEvent) ?? [];
    list.push({
      id: rule.id,
      name: rule.name,
      customerId: rule.customerId,
      instanceId: rule.instanceId,
      ruleKey: rule.ruleKey,
      cooldownSeconds: rule.cooldownSeconds,
      actions: rule.actions,
      matches: compileMatcher(trigger, rule.conditions),
    });
    byEvent.set(rule.triggerEvent, list);
  }
  return byEvent;
}
