import { applyDecorators } from '@nestjs/common';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
} from 'class-validator';
import { listEnvelope } from '../../common/list';
import { Rfc3339 } from '../../common/time';
import { WireField } from '../../common/wire';
import { ENDPOINT_STATUSES, EndpointStatus, WebhookEndpoint } from '../webhook-endpoint.entity';

export const ENDPOINT_LIMITS = {
  urlLength: 2048,
  eventTypes: 50,
  descriptionLength: 500,
  /** Each event is delivered once per matching endpoint: the fan-out a tenant may ask for. */
  perTenant: 50,
} as const;

/** `*`, or one event type (letters, digits, `.`, `_`, `-`). */
const EVENT_TYPE_OR_ALL = /^(\*|[A-Za-z0-9._-]{1,100})$/;

const UrlField = (optional: boolean) =>
  applyDecorators(
    MaxLength(ENDPOINT_LIMITS.urlLength),
    MinLength(1),
    IsString(),
    WireField({
      optional,
      format: 'uri',
      maxLength: ENDPOINT_LIMITS.urlLength,
      example: 'https://runtime.example.com/hooks',
      description:
        'https (http only where the operator allows it). A host that resolves to a loopback, private or link-local address is refused unless the operator allows it; cloud metadata addresses always are. Redirects are not followed.',
    }),
  );

/** `*` means every type: beside names it would say both "these" and "all", so it stands alone. */
const AllAlone = () =>
  ValidateBy({
    name: 'allAlone',
    validator: {
      validate: (value) => !Array.isArray(value) || !value.includes('*') || value.length === 1,
      defaultMessage: () => 'event_types is ["*"] or a list of event types, not both',
    },
  });

/** Listed in the order decorators written above a field run (bottom up). */
const EventTypesField = () =>
  applyDecorators(
    AllAlone(),
    IsString({ each: true }),
    Matches(EVENT_TYPE_OR_ALL, { each: true, message: 'each event type must be * or a type name' }),
    ArrayUnique(),
    ArrayMaxSize(ENDPOINT_LIMITS.eventTypes),
    ArrayMinSize(1),
    IsArray(),
    WireField({
      optional: true,
      type: ['string'],
      minItems: 1,
      maxItems: ENDPOINT_LIMITS.eventTypes,
      example: ['workflow.due', 'approval.resolved'],
      description: 'Event types to deliver, or `["*"]` for every type (the default)',
    }),
  );

const DescriptionField = () =>
  applyDecorators(
    MaxLength(ENDPOINT_LIMITS.descriptionLength),
    IsString(),
    WireField({ optional: true, nullable: true, maxLength: ENDPOINT_LIMITS.descriptionLength }),
  );

export class CreateWebhookEndpointDto {
  @UrlField(false) url!: string;
  @EventTypesField() eventTypes?: string[];

  @WireField({
    optional: true,
    nullable: true,
    format: 'uuid',
    description: "Only this instance's events and the tenant's of no instance",
  })
  @IsUUID()
  instanceId?: string | null;

  @DescriptionField() description?: string | null;
}

/** Only the fields sent change. */
export class UpdateWebhookEndpointDto {
  @UrlField(true) url?: string;
  @EventTypesField() eventTypes?: string[];
  @DescriptionField() description?: string | null;

  @WireField({
    optional: true,
    enum: ENDPOINT_STATUSES,
    description: 'Enabling an endpoint also clears its failing_since',
  })
  @IsIn(ENDPOINT_STATUSES)
  status?: EndpointStatus;
}

/** The create answer: the endpoint and its secret, shown this once. */
export class CreatedWebhookEndpoint extends WebhookEndpoint {
  @WireField({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description:
      'The signing secret (Standard Webhooks): shown only in this answer and never again',
  })
  secret!: string;
}

export class RotatedSecret {
  @WireField({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description:
      'The new signing secret, shown this once. For 24 hours deliveries are signed with both the old and the new secret',
  })
  secret!: string;
}

export class ReplayDto {
  @Rfc3339({
    optional: false,
    description: 'Deliver again every event of the endpoint’s types since this time',
  })
  since!: string;

  @WireField({
    optional: true,
    type: 'integer',
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    description:
      'Only events after this `sequence`: the `next_after` of the previous call, sent with the same `since`. Absent: from the first event since `since`.',
  })
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  after?: number;
}

export class ReplayQueued {
  @WireField({ type: 'integer', minimum: 0, description: 'Deliveries queued' }) queued!: number;
  @WireField({
    type: 'integer',
    minimum: 0,
    nullable: true,
    description:
      'Set when the replay stopped at its limit: the `sequence` of the last event it went through. Replay again with the same `since` and this as `after` for the rest',
  })
  nextAfter!: number | null;
  @WireField({
    format: 'date-time',
    nullable: true,
    description:
      'Set when the replay stopped at its limit: the time of the first event it left. Deprecated: replaying from it misses an event that took an earlier time than one before it in the feed; use `next_after`',
  })
  nextSince!: Date | null;
}

export const WebhookEndpointList = listEnvelope(WebhookEndpoint, 'webhook_endpoints');
