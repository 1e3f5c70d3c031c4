import {
  IsIn,
  IsInt,
  IsObject,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { Rfc3339 } from '../../common/time';
import { JSON_CAPS, KiB, MaxJsonBytes } from '../../common/json-limits';
import { WALK_CHARGED } from '../../common/list';
import { WireField } from '../../common/wire';
import { WORKFLOW_STATUSES, WORKFLOW_TYPES, WorkflowStatus, WorkflowType } from '../state-machine';
import { Workflow } from '../workflow.entity';

const STATE_CAP = `At most ${JSON_CAPS.workflowState / KiB} KiB as JSON`;
const DETAIL_CAP = `At most ${JSON_CAPS.workflowDetail / KiB} KiB as JSON.`;

/** What a list query means when a field is left out: stated in the schema, applied by the service. */
export const LIST_DEFAULTS = { page: 1, perPage: 20, suspendedLimit: 100 } as const;

const text = (max: number, description?: string) =>
  WireField({ optional: true, nullable: true, maxLength: max, type: 'string', description });

export class CreateWorkflowDto {
  @text(200) @IsString() @MaxLength(200) assignedTo?: string | null;
  @WireField({ format: 'uuid' }) @IsUUID() customerId!: string;
  @Rfc3339() expiresAt?: string | null;
  @WireField({ optional: true, format: 'uuid', description: 'Must equal the instance in the path' })
  @IsUUID()
  instanceId?: string;
  @Rfc3339() nextActionAt?: string | null;
  @text(200, 'External reference (property ref, job ref, etc.)')
  @IsString()
  @MaxLength(200)
  reference?: string | null;
  @text(100, 'Initial stage') @IsString() @MaxLength(100) stage?: string | null;
  @text(200) @IsString() @MaxLength(200) title?: string | null;
  @WireField({ optional: true, json: true, description: STATE_CAP })
  @IsObject()
  @MaxJsonBytes(JSON_CAPS.workflowState)
  workflowState?: Record<string, unknown>;
  @WireField({ enum: WORKFLOW_TYPES }) @IsIn(WORKFLOW_TYPES) workflowType!: WorkflowType;
}

export class AdvanceWorkflowDto {
  @WireField({
    minLength: 1,
    maxLength: 100,
    description: "Audit action name (e.g. 'escalated', 'approved', 'contacted_tier2')",
  })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  action!: string;
  @WireField({
    optional: true,
    nullable: true,
    json: true,
    description: `Any JSON, kept in the history entry. ${DETAIL_CAP}`,
  })
  @MaxJsonBytes(JSON_CAPS.workflowDetail)
  actionDetail?: unknown;
  @WireField({ optional: true, minLength: 1, maxLength: 100 })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  actor?: string;
  @WireField({ optional: true, nullable: true, format: 'uuid' }) @IsUUID() approverId?:
    string | null;
  @text(200) @IsString() @MaxLength(200) assignedTo?: string | null;
  @WireField({ optional: true, type: 'integer', minimum: 0, maximum: 1000 })
  @IsInt()
  @Min(0)
  @Max(1000)
  escalationLevel?: number;
  @Rfc3339() expiresAt?: string | null;
  @Rfc3339() nextActionAt?: string | null;
  @text(100, 'New stage') @IsString() @MaxLength(100) stage?: string | null;
  @WireField({ optional: true, enum: WORKFLOW_STATUSES, description: 'New status' })
  @IsIn(WORKFLOW_STATUSES)
  status?: WorkflowStatus;
  @WireField({
    optional: true,
    json: true,
    description: `Merged into the existing state (JSON Merge Patch). ${STATE_CAP}, merged.`,
  })
  @IsObject()
  @MaxJsonBytes(JSON_CAPS.workflowState)
  workflowState?: Record<string, unknown>;
}

export class SuspendWorkflowDto {
  @WireField({ minLength: 1, maxLength: 100, description: 'Step name to suspend at' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  step!: string;
  @WireField({
    optional: true,
    nullable: true,
    json: true,
    description: `Arbitrary state payload to preserve for resume. ${DETAIL_CAP}`,
  })
  @MaxJsonBytes(JSON_CAPS.workflowDetail)
  payload?: unknown;
}

export class ResumeWorkflowDto {
  @WireField({
    optional: true,
    json: true,
    description: `Data merged into workflow_state on resume. ${DETAIL_CAP}`,
  })
  @IsObject()
  @MaxJsonBytes(JSON_CAPS.workflowDetail)
  resumeData?: Record<string, unknown>;
}

export class ListWorkflowsQuery {
  @WireField({ optional: true, format: 'uuid' }) @IsUUID() customerId?: string;
  @WireField({ optional: true, enum: WORKFLOW_TYPES })
  @IsIn(WORKFLOW_TYPES)
  workflowType?: WorkflowType;
  @WireField({ optional: true, enum: WORKFLOW_STATUSES })
  @IsIn(WORKFLOW_STATUSES)
  status?: WorkflowStatus;
  @Rfc3339({
    nullable: false,
    description: `Only open workflows whose next_action_at is at or before this time. ${WALK_CHARGED}`,
  })
  dueBefore?: string;
  @WireField({
    optional: true,
    query: 'int',
    type: 'integer',
    minimum: 1,
    maximum: 100000,
    default: LIST_DEFAULTS.page,
    description: WALK_CHARGED,
  })
  @IsInt()
  @Min(1)
  @Max(100000)
  page?: number;
  @WireField({
    optional: true,
    query: 'int',
    type: 'integer',
    minimum: 1,
    maximum: 100,
    default: LIST_DEFAULTS.perPage,
  })
  @IsInt()
  @Min(1)
  @Max(100)
  perPage?: number;
}

export class ListWorkflowsInternalQuery extends ListWorkflowsQuery {
  @WireField({ optional: true, maxLength: 200 }) @IsString() @MaxLength(200) reference?: string;
}

export class ListSuspendedQuery {
  @WireField({
    optional: true,
    query: 'int',
    type: 'integer',
    minimum: 1,
    maximum: 500,
    default: LIST_DEFAULTS.suspendedLimit,
    description: 'At most this many, newest first',
  })
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class WorkflowPage {
  @WireField({ type: 'integer' }) page!: number;
  @WireField({ type: 'integer' }) perPage!: number;
  @WireField({ type: 'integer' }) total!: number;
  @WireField({ type: [Workflow] }) workflows!: Workflow[];
}

export class WorkflowActionResult {
  @WireField({ format: 'uuid' }) id!: string;
  @WireField() message!: string;
  @WireField({ enum: WORKFLOW_STATUSES }) status!: WorkflowStatus;
}
