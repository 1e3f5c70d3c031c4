import { Injectable } from '@nestjs/common';
import { compileFirstFailure } from '../conditions';
import { RULE_LIMITS } from '../limits';
import { FailedCondition, Firing, FiringsQuery, FIRINGS_PAGE, RuleEvaluation } from './firings.dto';
import { triggerType } from '../trigger-catalog';
import {
  RuleEvaluationsRepository,
  RuleRevision,
  StoredEvaluation,
  StoredFacts,
} from './rule-evaluations.repository';

/**
 * Reads of the firing log, and its retention. The log is written by the rule engine as it
 * fires (RuleEngine.fire, refuse, recordResults), in the event's own transaction.
 */
@Injectable()
export class FiringLogService {
  constructor(private readonly repo: RuleEvaluationsRepository) {}

  /** A rule's firings newest first; `customerId` confines them to that customer's events. */
  async firings(
    tenantId: string,
    ruleId: string,
    query: FiringsQuery,
    customerId?: string,
  ): Promise<Firing[]> {
    const rows = await this.repo.firings(tenantId, ruleId, {
      before: query.after,
      limit: query.limit ?? FIRINGS_PAGE.defaultLimit,
      customerId,
    });
    return rows.map((row) => Object.assign(new Firing(), row));
  }

  /**
   * Every rule the event met, in the order the engine took them: those that fired or were held
   * back as logged, and those skipped with the first condition they failed, worked out again
   * from the rule as it stood then and the payload it was evaluated on. None for an event no
   * rule was evaluated on.
   */
  async evaluationsOf(tenantId: string, eventId: string): Promise<RuleEvaluation[]> {
    const facts = await this.repo.facts(tenantId, eventId);
    if (!facts) return [];
    const logged = new Map(
      (await this.repo.ofEvent(tenantId, facts)).map((row) => [row.ruleId, row]),
    );
    const evaluations: RuleEvaluation[] = [];
    const shown = new Map<string, Shown>();
    for (const rule of await this.repo.revisions(tenantId, facts)) {
      const row = logged.get(rule.ruleId);
      logged.delete(rule.ruleId);
      const evaluation = row ? recorded(row) : skipped(facts, rule, shown);
      if (evaluation) evaluations.push(evaluation);
    }
    // A rule written while the event ran may have no revision at the version it was read at.
    const rest = [...logged.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    return [...evaluations, ...rest.map(recorded)];
  }

  /** See RuleEvaluationsRepository.purge; called in the tenant's transaction. */
  purge(tenantId: string, days: number, limit: number): Promise<number> {
    return this.repo.purge(tenantId, days, limit);
  }
}

const recorded = (row: StoredEvaluation): RuleEvaluation =>
  Object.assign(new RuleEvaluation(), row, { failedCondition: null });

/**
 * A rule in force for the event with no row: its conditions failed. Its conditions then, on the
 * payload then, with the engine's predicates: the first failing one is where the engine
 * stopped. A rule they all pass is not one the event skipped, and is left out.
 */
function skipped(
  facts: StoredFacts,
  rule: RuleRevision,
  shown: Map<string, Shown>,
): RuleEvaluation | null {
  const trigger = triggerType(facts.eventType);
  if (!trigger) return null;
  const failed = compileFirstFailure(trigger, rule.conditions)(facts.payload);
  if (!failed) return null;
  let actual = shown.get(failed.field);
  if (!actual) shown.set(failed.field, (actual = shownOf(failed.actual)));
  return Object.assign(new RuleEvaluation(), {
    id: null,
    eventId: facts.eventId,
    eventType: facts.eventType,
    ruleId: rule.ruleId,
    customerId: facts.customerId,
    outcome: 'skipped',
    decision: null,
    actions: [],
    at: facts.at,
    failedCondition: Object.assign(new FailedCondition(), {
      field: failed.field,
      operator: failed.operator,
      expected: failed.expected,
      ...actual,
    }),
  });
}

interface Shown {
  actual: unknown;
  actualTruncated: boolean;
}

/** Past this many bytes of JSON, a value that is not a string is left out. */
const SHOWN_BYTES = 2048;

/**
 * What a skipped rule shows of the payload's value. Whole, a 64 KiB value failing 1,000 rules
 * made one answer of 64 MB, and a few such reads at once exhausted the heap; the event's own
 * `data`, in the same answer, holds it once. Worked out once a field, not once a rule.
 */
function shownOf(actual: unknown): Shown {
  const most = RULE_LIMITS.charactersPerValue;
  if (typeof actual === 'string') {
    if (actual.length <= most) return { actual, actualTruncated: false };
    // By code points, so that no surrogate pair is cut in half.
    const cut = Array.from(actual.slice(0, 2 * most))
      .slice(0, most)
      .join('');
    return { actual: cut, actualTruncated: cut !== actual };
  }
  if (actual === null || typeof actual !== 'object') return { actual, actualTruncated: false };
  const fits = Buffer.byteLength(JSON.stringify(actual)) <= SHOWN_BYTES;
  return fits ? { actual, actualTruncated: false } : { actual: null, actualTruncated: true };
}
