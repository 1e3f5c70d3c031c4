import { IsObject, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';
import { Approval } from '../../approvals/approval.entity';
import { WireText } from '../../common/raw-json';
import { WireField } from '../../common/wire';
import { Workflow } from '../../workflows/workflow.entity';
import { JSON_CAPS, KiB, MaxJsonBytes } from '../../common/json-limits';
import { ActionResult } from './action-results';

export class EventDto {
  @WireField({ description: 'One of GET /v1/rules/trigger-types', example: 'skill.invoked' })
  @IsString()
  @MaxLength(100)
  event!: string;
  @WireField({ format: 'uuid' }) @IsUUID() customerId!: string;
  @WireField({
    json: true,
    description: `Fields of the trigger type; unknown fields are ignored. At most ${JSON_CAPS.eventPayload / KiB} KiB as JSON.`,
  })
  @IsObject()
  @MaxJsonBytes(JSON_CAPS.eventPayload)
  payload!: Record<string, unknown>;
  @WireField({
    optional: true,
    nullable: true,
    minLength: 1,
    maxLength: 200,
    description: 'The same key returns the first answer',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  idempotencyKey?: string | null;
}

export const DECISIONS = ['allow', 'require_approval', 'block'] as const;
export type Decision = (typeof DECISIONS)[number];

export class FiredRule {
  @WireField({ format: 'uuid' }) ruleId!: string;
  @WireField() ruleName!: string;
  @WireField({ json: true, type: 'array', items: { type: 'object' } }) actions!: unknown[];
  // Not `json`: the results are wire classes, mapped field by field like the rest of the answer.
  @WireField({ type: 'array', items: { type: 'object' }, description: 'What each action did' })
  results!: ActionResult[];
}

export class RuleNotFired {
  @WireField({ format: 'uuid' }) ruleId!: string;
  @WireField({ example: 'cooldown' }) reason!: string;
}

export class EventOutcome {
  @WireField() event!: string;
  @WireField({ enum: DECISIONS }) decision!: Decision;
  @WireField({ type: [FiredRule] }) fired!: FiredRule[];
  @WireField({ type: [RuleNotFired], description: 'Matched but held back: cooldown, overridden' })
  suppressed!: RuleNotFired[];
  /** Written as text once per rule (see RuleActions), not as RuleNotFired objects. */
  @WireField({ type: [RuleNotFired], description: 'Conditions not met' }) skipped!: WireText;
  @WireField({ type: [Approval] }) approvals!: Approval[];
  @WireField({ type: [Workflow] }) workflows!: Workflow[];
}
