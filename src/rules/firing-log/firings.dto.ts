import { ACTION_TYPES } from '../actions';
import { OPERATORS, Operator } from '../conditions';
import { AfterId, PageLimit, listEnvelope } from '../../common/list';
import { WireField, WireFieldOptions } from '../../common/wire';
import {
  ActionTaken,
  DECISIONS,
  Decision,
  OUTCOMES,
  Outcome,
  RECORDED_OUTCOMES,
  RecordedOutcome,
} from './evaluation';

/** A page of a rule's firings: the one default the service applies too. */
export const FIRINGS_PAGE = { defaultLimit: 100, maxLimit: 500 } as const;

export class FiringsQuery {
  @AfterId({
    description:
      'The `id` of the last firing of the previous page: this page holds the firings older than it (ids are time-ordered, so a firing removed since still marks the place). Absent: from the newest.',
  })
  after?: string;
  @PageLimit(FIRINGS_PAGE) limit?: number;
}

const actionsDoc: WireFieldOptions = {
  json: true,
  type: 'array',
  items: {
    type: 'object',
    required: ['type'],
    properties: {
      type: { type: 'string', enum: [...ACTION_TYPES] },
      approval_id: { type: 'string', format: 'uuid', description: 'The approval it requested' },
      workflow_id: { type: 'string', format: 'uuid', description: 'The workflow it created' },
    },
  },
  description:
    "The actions carried out, in the rule's order, each with what it created: a fired rule's; none for any other outcome",
};

const OUTCOME_NOTE =
  'fired; suppressed_cooldown (the rule fired for this customer within its cooldown); overridden (a customer rule of the same rule_key took its place); loop_guard (the event was too deep in a chain of events raised by rules to be evaluated); limit_exceeded (the rules it fired with would have created more than one event may)';

const DECISION_DOC: WireFieldOptions = {
  enum: DECISIONS,
  nullable: true,
  description:
    "What a fired rule's actions made of the event: block if one blocks, else require_approval if one asks for approval, else allow. Null for any other outcome: its actions did not run.",
};

/*
 * The two views below share their fields but not one class: an evaluation's id may be null and
 * its outcome may be skipped, which a firing's may not. Fields in the same order in both.
 */

/** One rule's evaluation for one event, as the firing log keeps it. */
export class Firing {
  @WireField({ format: 'uuid' }) id!: string;
  @WireField({ format: 'uuid' }) eventId!: string;
  @WireField({ example: 'skill.invoked' }) eventType!: string;
  @WireField({ format: 'uuid' }) ruleId!: string;
  @WireField({ format: 'uuid', nullable: true, description: "The event's customer" })
  customerId!: string | null;
  @WireField({ enum: RECORDED_OUTCOMES, description: OUTCOME_NOTE }) outcome!: RecordedOutcome;
  @WireField(DECISION_DOC) decision!: Decision | null;
  @WireField(actionsDoc) actions!: ActionTaken[];
  @WireField({ format: 'date-time' }) at!: Date;
}

export const FiringList = listEnvelope(Firing, 'firings');

/** A JSON value of any type, null too: what a condition compares and what a payload holds. */
const ANY_VALUE = {
  json: true,
  oneOf: [
    { type: 'string' },
    { type: 'number' },
    { type: 'boolean' },
    { type: 'array', items: {} },
    { type: 'object', nullable: true },
  ],
};

/** The condition a skipped rule failed on: the first of its conditions the payload did not meet. */
export class FailedCondition {
  @WireField() field!: string;
  @WireField({ enum: OPERATORS }) operator!: Operator;
  @WireField({ ...ANY_VALUE, description: 'The value in the rule' }) expected!: unknown;
  @WireField({
    ...ANY_VALUE,
    description:
      "The value in the payload. A string is cut to its first 1,000 characters (the longest a rule's value may be), and any other value of more than 2 KiB of JSON is null; `actual_truncated` then says so, and the whole value is in the event's `data`",
  })
  actual!: unknown;
  @WireField({ description: '`actual` is cut short, or null, for its size' })
  actualTruncated!: boolean;
}

/**
 * An event's evaluation of one rule: a firing, or a rule skipped for its conditions (which the
 * firing log keeps per event rather than per rule, so it has no id of its own).
 */
export class RuleEvaluation {
  @WireField({ format: 'uuid', nullable: true, description: 'Null for a skipped rule' })
  id!: string | null;
  @WireField({ format: 'uuid' }) eventId!: string;
  @WireField({ example: 'skill.invoked' }) eventType!: string;
  @WireField({ format: 'uuid' }) ruleId!: string;
  @WireField({ format: 'uuid', nullable: true, description: "The event's customer" })
  customerId!: string | null;
  @WireField({
    enum: OUTCOMES,
    description: `${OUTCOME_NOTE}; skipped (the payload did not meet its conditions)`,
  })
  outcome!: Outcome;
  @WireField(DECISION_DOC) decision!: Decision | null;
  @WireField(actionsDoc) actions!: ActionTaken[];
  @WireField({ format: 'date-time' }) at!: Date;
  @WireField({
    nested: () => FailedCondition,
    nullable: true,
    description: 'For a skipped rule, the first of its conditions the payload did not meet',
  })
  failedCondition!: FailedCondition | null;
}
