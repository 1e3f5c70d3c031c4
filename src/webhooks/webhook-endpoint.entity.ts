import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { WireField } from '../common/wire';

export const ENDPOINT_STATUSES = ['enabled', 'disabled'] as const;
export type EndpointStatus = (typeof ENDPOINT_STATUSES)[number];

/**
 * A URL of a tenant's that receives its events. Also the response schema: the secrets are
 * sealed in the row and never serialised; the create and rotate answers show a new one once.
 */
@Entity('webhook_endpoints')
export class WebhookEndpoint {
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') id!: string;
  @PrimaryColumn('uuid') tenantId!: string;
  @WireField({ format: 'uri', maxLength: 2048, example: 'https://runtime.example.com/hooks' })
  @Column('text')
  url!: string;
  @WireField({
    type: ['string'],
    example: ['workflow.due', 'approval.resolved'],
    description: 'The event types delivered, or `["*"]` for all',
  })
  @Column('text', { array: true })
  eventTypes!: string[];
  @WireField({
    format: 'uuid',
    nullable: true,
    description: "Only this instance's events and the tenant's of no instance; null: every event",
  })
  @Column('uuid', { nullable: true })
  instanceId!: string | null;
  @WireField({ nullable: true, type: 'string', maxLength: 500 })
  @Column('text', { nullable: true })
  description!: string | null;
  @WireField({ enum: ENDPOINT_STATUSES }) @Column('text') status!: EndpointStatus;
  @WireField({
    format: 'date-time',
    nullable: true,
    description:
      'Since when every attempt has failed (null after a success); after five days of failures the endpoint is disabled',
  })
  @Column('timestamptz', { nullable: true })
  failingSince!: Date | null;
  @Column('bytea') sealedSecret!: Buffer;
  @Column('bytea', { nullable: true }) previousSealedSecret!: Buffer | null;
  @Column('timestamptz', { nullable: true }) previousSecretUntil!: Date | null;
  @WireField({ format: 'date-time' }) @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @WireField({ format: 'date-time' }) @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
}
