import { Injectable } from '@nestjs/common';
import { InvalidFields } from '../../common/errors';
import { RuleAction, eventEffects, eventEffectsError } from '../actions';
import { CompiledRule, RuleCache } from './rule-cache';
import { RuleFiringRepository } from './rule-firing.repository';

/** An event as the engine needs it; the caller has checked the trigger and its payload. */
export interface EventFacts {
  tenantId: string;
  instanceId: string;
  customerId: string;
  event: string;
  payload: Record<string, unknown>;
}

/** A rule that fires: its cooldown is claimed and its firing counted. */
export interface FiringRule {
  id: string;
  name: string;
  actions: RuleAction[];
}

/** A tenant default overridden by a customer rule of the same rule_key, or a rule cooling down. */
export interface SuppressedRule {
  ruleId: string;
  reason: 'overridden' | 'cooldown';
}

export interface SkippedRule {
  ruleId: string;
  reason: 'conditions_not_met';
}

/** What an event's rules decided, each list in priority order. */
export interface RuleFiring {
  fired: FiringRule[];
  /** The overridden first, then those held by their cooldown. */
  suppressed: SuppressedRule[];
  skipped: SkippedRule[];
}

/**
 * Which of a tenant's rules an event fires. Everything it writes (cooldown claims, counters) is
 * in the caller's transaction, and the caller carries out the fired rules' actions in that same
 * transaction: if one fails, the claims and counts go with it.
 */
@Injectable()
export class RuleEngine {
  constructor(
    private readonly repo: RuleFiringRepository,
    private readonly cache: RuleCache,
  ) {}

  /**
   * Effective rules (this instance's and instance-wide ones; this customer's and the tenant's,
   * a customer rule overriding the tenant rule of the same rule_key), then conditions, then
   * cooldowns. Refuses, with nothing kept, an event whose fired rules would create more than
   * one event may.
   */
  async fire(facts: EventFacts): Promise<RuleFiring> {
    const { tenantId, instanceId, customerId, payload } = facts;
    // Read in this transaction before the rules: a rule written since is seen as a new version.
    const version = await this.repo.version(tenantId);
    // Rules of other instances or customers are not this event's business: not even listed.
    const effective = (await this.cache.rulesFor(tenantId, version, facts.event)).filter(
      (r) =>
        (r.instanceId === null || r.instanceId === instanceId) &&
        (r.customerId === null || r.customerId === customerId),
    );
    const overridden = new Set(
      effective.filter((r) => r.customerId !== null && r.ruleKey).map((r) => r.ruleKey),
    );
    const firing: RuleFiring = { fired: [], suppressed: [], skipped: [] };
    const candidates: CompiledRule[] = [];
    for (const rule of effective) {
      if (rule.customerId === null && rule.ruleKey !== null && overridden.has(rule.ruleKey)) {
        firing.suppressed.push({ ruleId: rule.id, reason: 'overridden' });
      } else if (!rule.matches(payload)) {
        firing.skipped.push({ ruleId: rule.id, reason: 'conditions_not_met' });
      } else {
        candidates.push(rule);
      }
    }
    const claimed = await this.repo.claimCooldowns(tenantId, customerId, candidates);
    for (const rule of candidates) {
      if (claimed.has(rule.id))
        firing.fired.push({ id: rule.id, name: rule.name, actions: rule.actions });
      else firing.suppressed.push({ ruleId: rule.id, reason: 'cooldown' });
    }
    // Counted on the rules that won their cooldown, so a held-back rule costs nothing; the
    // refusal rolls the claims back with the rest of the request.
    const tooMuch = eventEffectsError(eventEffects(firing.fired));
    if (tooMuch) throw new InvalidFields([tooMuch]);
    await this.repo.countFirings(
      tenantId,
      firing.fired.map((rule) => rule.id),
    );
    return firing;
  }
}
