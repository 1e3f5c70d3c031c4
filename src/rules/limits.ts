import { FieldProblem } from '../common/errors';
import { jsonBytes } from '../common/json-limits';

/**
 * What one tenant may store in rules and make one event do. GET /v1/rules has no paging, so the
 * whole rule set is one response: its size, and the memory of reading it, must stay bounded
 * whatever a tenant stores.
 */
export const RULE_LIMITS = {
  rulesPerTenant: 1000,
  conditionsPerRule: 50,
  actionsPerRule: 10,
  valuesPerList: 100,
  charactersPerValue: 1000,
  /**
   * Bytes of a rule's conditions and actions together, as stored. 1,000 rules at this size
   * plus their other fields at their longest (a 2,000-character description of control
   * characters is 12 kB of JSON) answer GET /v1/rules in under 30 MiB.
   */
  bytesPerRule: 16 * 1024,
  workflowsPerEvent: 20,
  approvalsPerEvent: 20,
} as const;

const byteLength = jsonBytes; // as PostgreSQL stores and sends them

/**
 * The byte cap on what a rule stores, measured on the cleaned values as they will be kept. The
 * error points at the larger of the fields the request sent (the one to shorten), or at the
 * larger of both when it sent neither (a trigger change over stored values).
 */
export function checkRuleSize(
  conditions: unknown[],
  actions: unknown[],
  sent: { conditions: boolean; actions: boolean },
): FieldProblem | null {
  const sizes = { conditions: byteLength(conditions), actions: byteLength(actions) };
  const total = sizes.conditions + sizes.actions;
  if (total <= RULE_LIMITS.bytesPerRule) return null;
  const blamable = (['conditions', 'actions'] as const).filter((f) => sent[f]);
  const candidates = blamable.length > 0 ? blamable : (['conditions', 'actions'] as const);
  const field = candidates.reduce((a, b) => (sizes[b] > sizes[a] ? b : a));
  return {
    field,
    msg: `conditions and actions together may take at most ${RULE_LIMITS.bytesPerRule} bytes as JSON; this rule takes ${total}`,
    type: 'too_long',
  };
}
