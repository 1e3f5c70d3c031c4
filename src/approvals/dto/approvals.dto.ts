import {
  IsBoolean,
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
import { PageLimit, WALK_CHARGED } from '../../common/list';
import { WireField } from '../../common/wire';
import { JSON_CAPS, KiB, MaxJsonBytes } from '../../common/json-limits';
import { APPROVAL_STATUSES, Approval, ApprovalStatus } from '../approval.entity';
import {
  APPROVER_ROLES,
  ApproverRole,
  DEFAULT_APPROVER_ROLE,
  EXPIRES_IN_HOURS,
} from '../approval-request';

/** A page of GET /v1/approvals: the first fifty unless asked, at most two hundred. */
export const APPROVAL_PAGE = {
  defaultLimit: 50,
  maxLimit: 200,
  /** The runtime's pending list: at most this many by default, newest first. */
  pendingLimit: 100,
  defaultOffset: 0,
  maxOffset: 10_000_000,
} as const;

export class CreateApprovalDto {
  @WireField({ minLength: 1, maxLength: 100 })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  action!: string;
  @WireField({ optional: true, nullable: true, format: 'uuid' }) @IsUUID() approverPersonId?:
    string | null;
  @WireField({
    optional: true,
    enum: APPROVER_ROLES,
    default: DEFAULT_APPROVER_ROLE,
    description: "Must be 'owner' or 'customer'",
  })
  @IsIn(APPROVER_ROLES)
  approverRole?: ApproverRole;
  @WireField({ format: 'uuid' }) @IsUUID() customerId!: string;
  @WireField({
    optional: true,
    type: 'integer',
    minimum: EXPIRES_IN_HOURS.min,
    maximum: EXPIRES_IN_HOURS.max,
    default: EXPIRES_IN_HOURS.default,
  })
  @IsInt()
  @Min(EXPIRES_IN_HOURS.min)
  @Max(EXPIRES_IN_HOURS.max)
  expiresInHours?: number;
  @WireField({
    optional: true,
    nullable: true,
    minLength: 1,
    maxLength: 200,
    description: 'Caller-provided idempotency key for safe retries',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  idempotencyKey?: string | null;
  @WireField({ optional: true, nullable: true, maxLength: 50, type: 'string' })
  @IsString()
  @MaxLength(50)
  notifyChannel?: string | null;
  @WireField({ optional: true, nullable: true, format: 'uuid' }) @IsUUID() ruleId?: string | null;
  @WireField({
    json: true,
    description: `Full params to replay on approval. At most ${JSON_CAPS.serializedIntent / KiB} KiB as JSON.`,
  })
  @IsObject()
  @MaxJsonBytes(JSON_CAPS.serializedIntent)
  serializedIntent!: Record<string, unknown>;
  @WireField({ minLength: 1, maxLength: 100 })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  skillSlug!: string;
}

export const RESOLUTIONS = ['approve', 'reject'] as const;

export class ResolveApprovalDto {
  @WireField({ enum: RESOLUTIONS, description: "Must be 'approve' or 'reject'" })
  @IsIn(RESOLUTIONS)
  action!: (typeof RESOLUTIONS)[number];
  @WireField({ maxLength: 40, description: 'APR-xxxx reference' })
  @IsString()
  @MaxLength(40)
  approvalRef!: string;
  @WireField({ description: 'Whether PIN was verified by caller — required, no default' })
  @IsBoolean()
  pinVerified!: boolean;
  @WireField({ optional: true, nullable: true, maxLength: 50, type: 'string' })
  @IsString()
  @MaxLength(50)
  resolutionChannel?: string | null;
  @WireField({ optional: true, nullable: true, maxLength: 200, type: 'string' })
  @IsString()
  @MaxLength(200)
  resolvedBy?: string | null;
  @WireField({
    optional: true,
    nullable: true,
    format: 'uuid',
    description: 'Person ID if approval targets a specific person',
  })
  @IsUUID()
  resolverPersonId?: string | null;
  @WireField({ enum: APPROVER_ROLES, description: 'Role of resolver' })
  @IsIn(APPROVER_ROLES)
  resolverRole!: ApproverRole;
}

export class PendingApprovalsQuery {
  @WireField({ format: 'uuid' }) @IsUUID() customerId!: string;
  @PageLimit({ defaultLimit: APPROVAL_PAGE.pendingLimit, maxLimit: APPROVAL_PAGE.maxLimit })
  limit?: number;
}

export class ListApprovalsQuery {
  @WireField({ optional: true, format: 'uuid' }) @IsUUID() customerId?: string;
  @WireField({ optional: true, enum: APPROVAL_STATUSES })
  @IsIn(APPROVAL_STATUSES)
  status?: ApprovalStatus;
  @PageLimit(APPROVAL_PAGE) limit?: number;
  @WireField({
    optional: true,
    query: 'int',
    type: 'integer',
    minimum: 0,
    maximum: APPROVAL_PAGE.maxOffset,
    default: APPROVAL_PAGE.defaultOffset,
    description: WALK_CHARGED,
  })
  @IsInt()
  @Min(0)
  @Max(APPROVAL_PAGE.maxOffset)
  offset?: number;
}

export class ApprovalPage {
  @WireField({ type: [Approval] }) approvals!: Approval[];
  @WireField({ type: 'integer' }) total!: number;
  @WireField({ type: 'integer' }) limit!: number;
  @WireField({ type: 'integer' }) offset!: number;
}

/** The outbox payload of an approved approval: what the receiver replays, and proof of it. */
export class ReplayMessage {
  @WireField({ format: 'uuid' }) approvalId!: string;
  @WireField() approvalRef!: string;
  @WireField({ format: 'uuid' }) customerId!: string;
  @WireField() skillSlug!: string;
  @WireField() action!: string;
  @WireField({ json: true }) serializedIntent!: Record<string, unknown>;
  @WireField() intentHash!: string;
}
