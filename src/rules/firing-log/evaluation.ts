import { ActionType, RuleAction } from '../actions';

/** What became of a rule an event met, for each rule that did more than fail its conditions. */
export const RECORDED_OUTCOMES = [
  'fired',
  'suppressed_cooldown',
  'overridden',
  'loop_guard',
  'limit_exceeded',
] as const;
export type RecordedOutcome = (typeof RECORDED_OUTCOMES)[number];

/** An event's evaluations add the rules skipped for their conditions, which have no row. */
export const OUTCOMES = [...RECORDED_OUTCOMES, 'skipped'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** What a fired rule's actions make of the event: the most restrictive of them. */
export const DECISIONS = ['allow', 'require_approval', 'block'] as const;
export type Decision = (typeof DECISIONS)[number];

/**
 * An action a fired rule carried out, as stored and shown: the ids of what it created appear
 * once the action has run (see RuleEngine.recordResults).
 */
export interface ActionTaken {
  type: ActionType;
  approval_id?: string;
  workflow_id?: string;
}

/** One rule's row of an event's evaluation. */
export interface EvaluationRecord {
  ruleId: string;
  outcome: RecordedOutcome;
  /** Only for a fired rule; the others' actions did not run. */
  decision: Decision | null;
  /** What ran: a fired rule's actions, none for any other outcome. */
  actions: ActionTaken[];
}

/**
 * `block` if any action blocks, else `require_approval` if any asks for one, else `allow`: the
 * same order in which the event's own decision is made of every fired rule's.
 */
export function decisionOf(actions: readonly RuleAction[]): Decision {
  if (actions.some((a) => a.type === 'block')) return 'block';
  if (actions.some((a) => a.type === 'require_approval')) return 'require_approval';
  return 'allow';
}

export const firedRecord = (ruleId: string, actions: readonly RuleAction[]): EvaluationRecord => ({
  ruleId,
  outcome: 'fired',
  decision: decisionOf(actions),
  actions: actions.map((a) => ({ type: a.type })),
});

export const heldRecord = (ruleId: string, outcome: RecordedOutcome): EvaluationRecord => ({
  ruleId,
  outcome,
  decision: null,
  actions: [],
});
