import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { WireField } from '../common/wire';

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One event's delivery to one endpoint, with how its attempts went. */
@Entity('webhook_deliveries')
export class WebhookDelivery {
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') id!: string;
  @PrimaryColumn('uuid') tenantId!: string;
  @Column('uuid') endpointId!: string;
  @WireField({ format: 'uuid', description: 'Also the `webhook-id` header of every attempt' })
  @Column('uuid')
  eventId!: string;
  @WireField({ example: 'workflow.due' }) @Column('text') eventType!: string;
  @WireField({ enum: DELIVERY_STATUSES }) @Column('text') status!: DeliveryStatus;
  @WireField({ type: 'integer', minimum: 0 }) @Column('integer') attempts!: number;
  @WireField({ format: 'date-time', nullable: true })
  @Column('timestamptz', { nullable: true })
  lastAttemptAt!: Date | null;
  @WireField({
    format: 'date-time',
    nullable: true,
    description: 'When the next attempt is due; null once succeeded or failed',
  })
  @Column('timestamptz', { nullable: true })
  nextAttemptAt!: Date | null;
  @Column('timestamptz', { nullable: true }) leasedUntil!: Date | null;
  @WireField({ type: 'integer', nullable: true, description: "The last answer's HTTP status" })
  @Column('smallint', { nullable: true })
  lastResponseStatus!: number | null;
  @WireField({ type: 'string', nullable: true, description: 'Why the last attempt failed' })
  @Column('text', { nullable: true })
  lastError!: string | null;
  @WireField({ format: 'date-time' }) @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
}
