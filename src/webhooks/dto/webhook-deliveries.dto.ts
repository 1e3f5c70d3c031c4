import { IsIn, IsInt, IsUUID, Max, Min } from 'class-validator';
import { listEnvelope } from '../../common/list';
import { WireField } from '../../common/wire';
import { DELIVERY_STATUSES, DeliveryStatus, WebhookDelivery } from '../webhook-delivery.entity';

export const DELIVERIES_PAGE = { defaultLimit: 50, maxLimit: 200 } as const;

export class DeliveriesQuery {
  @WireField({ optional: true, enum: DELIVERY_STATUSES })
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;

  @WireField({
    optional: true,
    format: 'uuid',
    description:
      'The `id` of the last delivery of the previous page: this page holds the older ones. Absent: from the newest.',
  })
  @IsUUID()
  after?: string;

  @WireField({
    optional: true,
    query: 'int',
    type: 'integer',
    minimum: 1,
    maximum: DELIVERIES_PAGE.maxLimit,
    default: DELIVERIES_PAGE.defaultLimit,
  })
  @IsInt()
  @Min(1)
  @Max(DELIVERIES_PAGE.maxLimit)
  limit?: number;
}

export const WebhookDeliveryList = listEnvelope(WebhookDelivery, 'deliveries');
