import { IsIn } from 'class-validator';
import { AfterId, PageLimit, listEnvelope } from '../../common/list';
import { WireField } from '../../common/wire';
import { DELIVERY_STATUSES, DeliveryStatus, WebhookDelivery } from '../webhook-delivery.entity';

export const DELIVERIES_PAGE = { defaultLimit: 50, maxLimit: 200 } as const;

export class DeliveriesQuery {
  @WireField({ optional: true, enum: DELIVERY_STATUSES })
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;

  @AfterId({
    description:
      'The `id` of the last delivery of the previous page: this page holds the older ones. Absent: from the newest.',
  })
  after?: string;

  @PageLimit(DELIVERIES_PAGE) limit?: number;
}

export const WebhookDeliveryList = listEnvelope(WebhookDelivery, 'deliveries');
