import { IsString, IsUUID, Matches } from 'class-validator';
import { AfterId, PageLimit } from '../../common/list';
import { WireField } from '../../common/wire';
import type { ActorKind } from '../audit-entry.entity';

export const AUDIT_PAGE = { defaultLimit: 50, maxLimit: 200 } as const;

/** An action: `<target type>.<verb>`, letters, digits, `.`, `_`, `-`. */
const ACTION = /^[A-Za-z0-9._-]{1,100}$/;

/** UUIDs are compared as the database stores them. */
const lower = (value: unknown): unknown =>
  typeof value === 'string' ? value.toLowerCase() : value;

export class AuditLogQuery {
  @WireField({
    optional: true,
    format: 'uuid',
    normalize: lower,
    description: 'Only entries about this row (a rule, a key, a customer, …)',
  })
  @IsUUID()
  targetId?: string;

  @WireField({ optional: true, minLength: 1, maxLength: 100, example: 'rule.updated' })
  @IsString()
  @Matches(ACTION, { message: 'action must be one action (letters, digits, . _ -)' })
  action?: string;

  @AfterId({
    normalize: lower,
    description: 'The last entry id of the previous page: the next page holds older entries',
  })
  after?: string;

  @PageLimit(AUDIT_PAGE) limit?: number;
}

export class AuditActor {
  @WireField({ enum: ['user', 'api_key', 'platform'] }) kind!: ActorKind;
  @WireField({
    type: 'string',
    nullable: true,
    description: "The JWT's `sub` or the API key's id; null for the platform operator",
  })
  id!: string | null;
}

export class AuditEntryView {
  @WireField({ format: 'uuid' }) id!: string;
  @WireField({ format: 'date-time' }) at!: Date;
  @WireField({ nested: () => AuditActor }) actor!: AuditActor;
  @WireField({ example: 'rule.updated', description: '`<target type>.<what happened>`' })
  action!: string;
  @WireField({ example: 'rule' }) targetType!: string;
  @WireField({ format: 'uuid' }) targetId!: string;
  @WireField({
    type: 'string',
    nullable: true,
    description: 'The X-Request-Id the change was answered with',
  })
  requestId!: string | null;
  @WireField({
    json: true,
    description:
      '`{"<field>": [old, new]}` for each field the change set; null stands for absent. ' +
      'Secrets never appear: a changed one reads `["[redacted]", "[redacted]"]`.',
  })
  changes!: Record<string, [unknown, unknown]>;
}

export class AuditLogPage {
  @WireField({ type: [AuditEntryView] }) entries!: AuditEntryView[];
  @WireField({
    type: 'string',
    format: 'uuid',
    nullable: true,
    description: 'The `after` of the next page (the last entry here); null on an empty page',
  })
  nextAfter!: string | null;
  @WireField({ description: 'Older entries follow' }) hasMore!: boolean;
}
