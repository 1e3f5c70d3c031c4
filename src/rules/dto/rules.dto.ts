import {
  IsBoolean,
  IsDefined,
  IsInt,
  IsObject,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { WireField, WireFieldOptions } from '../../common/wire';
import { APPROVER_ROLES, EXPIRES_IN_HOURS } from '../../approvals/approval-request';
import { ACTION_TYPES } from '../actions';
import { OPERATORS, Operator } from '../conditions';
import { RULE_LIMITS } from '../limits';
import { OVERRIDE_DOC } from '../rule.entity';

const INT4_MAX = 2_147_483_647;
/**
 * What a new rule is unless its request says otherwise: active, priority 0, and firing at most
 * once per customer in five minutes, and overridable by a customer rule of its rule_key.
 */
export const RULE_DEFAULTS = {
  cooldownSeconds: 300,
  priority: 0,
  isActive: true,
  allowCustomerOverride: true,
} as const;

const { actionsPerRule, bytesPerRule, charactersPerValue, conditionsPerRule, valuesPerList } =
  RULE_LIMITS;
const text = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength });
const sizeNote = `Conditions and actions together take at most ${bytesPerRule} bytes as canonical JSON.`;

const conditionsDoc: WireFieldOptions = {
  json: true,
  type: 'array',
  maxItems: conditionsPerRule,
  items: {
    type: 'object',
    properties: {
      field: { type: 'string' },
      operator: { type: 'string', enum: [...OPERATORS] },
      value: {
        description: `A value of the field's type; a list of 1 to ${valuesPerList} for in and not_in; none for exists and not_exists`,
        oneOf: [
          { type: 'string', maxLength: charactersPerValue },
          { type: 'number' },
          { type: 'boolean' },
          {
            type: 'array',
            minItems: 1,
            maxItems: valuesPerList,
            items: {
              oneOf: [{ type: 'string', maxLength: charactersPerValue }, { type: 'number' }],
            },
          },
        ],
      },
    },
  },
  description: `Each {field, operator, value}: field from the trigger’s payload_fields, an operator that suits its type. ${sizeNote}`,
};
const actionsDoc: WireFieldOptions = {
  json: true,
  type: 'array',
  minItems: 1,
  maxItems: actionsPerRule,
  items: {
    type: 'object',
    properties: {
      type: { type: 'string', enum: [...ACTION_TYPES] },
      skill_slug: { type: 'string' },
      action: { type: 'string' },
      approver_role: { type: 'string', enum: [...APPROVER_ROLES] },
      expires_in_hours: {
        type: 'integer',
        minimum: EXPIRES_IN_HOURS.min,
        maximum: EXPIRES_IN_HOURS.max,
      },
      to: text(255),
      message: text(charactersPerValue),
      workflow_type: { type: 'string' },
      stage: text(100),
      title: text(200),
      reason: text(500),
    },
  },
  description: `require_approval {skill_slug, action, approver_role, expires_in_hours} | notify {to, message} | create_workflow {workflow_type, stage?, title?} | block {reason}. ${sizeNote}`,
};

/** Fields shared by create and update; conditions and actions are checked by the service. */
class RuleFields {
  @WireField({
    optional: true,
    default: RULE_DEFAULTS.allowCustomerOverride,
    description: `${OVERRIDE_DOC} Only a tenant admin may send it (from a customer admin: 403); false on a customer rule, or on a default moved to a customer without sending true, is 422.`,
  })
  @IsBoolean()
  allowCustomerOverride?: boolean;
  @WireField({ optional: true, ...conditionsDoc }) conditions?: unknown;
  @WireField({
    optional: true,
    type: 'integer',
    minimum: 0,
    maximum: INT4_MAX,
    default: RULE_DEFAULTS.cooldownSeconds,
  })
  @IsInt()
  @Min(0)
  @Max(INT4_MAX)
  cooldownSeconds?: number;
  @WireField({
    optional: true,
    nullable: true,
    format: 'uuid',
    description: 'NULL = tenant-wide, set = customer-specific',
  })
  @IsUUID()
  customerId?: string | null;
  @WireField({ optional: true, nullable: true, maxLength: 2000, type: 'string' })
  @IsString()
  @MaxLength(2000)
  description?: string | null;
  @WireField({ optional: true, nullable: true, format: 'uuid' }) @IsUUID() instanceId?:
    string | null;
  @WireField({ optional: true, default: RULE_DEFAULTS.isActive }) @IsBoolean() isActive?: boolean;
  @WireField({
    optional: true,
    type: 'integer',
    minimum: 0,
    maximum: INT4_MAX,
    default: RULE_DEFAULTS.priority,
  })
  @IsInt()
  @Min(0)
  @Max(INT4_MAX)
  priority?: number;
  @WireField({
    optional: true,
    nullable: true,
    maxLength: 100,
    type: 'string',
    description: 'Override key: same key suppresses the tenant rule',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  ruleKey?: string | null;
}

export class CreateRuleDto extends RuleFields {
  @WireField(actionsDoc) @IsDefined() actions!: unknown;
  @WireField({ minLength: 1, maxLength: 200 })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;
  @WireField({ description: 'One of GET /v1/rules/trigger-types' })
  @IsString()
  @MaxLength(100)
  triggerEvent!: string;
}

export class UpdateRuleDto extends RuleFields {
  @WireField({ optional: true, ...actionsDoc }) actions?: unknown;
  @WireField({ optional: true, minLength: 1, maxLength: 200 })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;
  @WireField({ optional: true }) @IsString() @MaxLength(100) triggerEvent?: string;
}

export class ListRulesQuery {
  @WireField({ optional: true, format: 'uuid' }) @IsUUID() instanceId?: string;
  @WireField({ optional: true, query: 'bool', type: 'boolean', default: false })
  @IsBoolean()
  activeOnly?: boolean;
}

export class TestRuleDto {
  @WireField({ json: true, description: 'Sample event payload to test against' })
  @IsObject()
  payload!: Record<string, unknown>;
}

export class ConditionResultView {
  @WireField() field!: string;
  @WireField({ enum: OPERATORS }) operator!: Operator;
  @WireField({ nullable: true, description: 'The value in the rule' }) expected!: unknown;
  @WireField({ nullable: true, description: 'The value in the payload' }) actual!: unknown;
  @WireField() passed!: boolean;
}

export class TestRuleResult {
  @WireField({ format: 'uuid' }) ruleId!: string;
  @WireField() ruleName!: string;
  @WireField() allConditionsMet!: boolean;
  @WireField({ type: [ConditionResultView], nested: () => ConditionResultView })
  conditionResults!: ConditionResultView[];
  @WireField({
    json: true,
    type: 'array',
    items: { type: 'object' },
    description: 'Nothing is executed',
  })
  actionsThatWouldFire!: unknown[];
}
