import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { WireField } from '../common/wire';
import { CHANNEL_STATUSES, CHANNEL_TYPES, ChannelStatus, ChannelType } from './providers';

/**
 * A number, bot or mailbox an instance owns. Also the response schema: the webhook secret is
 * write-only (encrypted, never serialised); responses say only whether there is one.
 */
@Entity('channel_endpoints')
export class ChannelEndpoint {
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') id!: string;
  @PrimaryColumn('uuid') tenantId!: string;
  @WireField({ format: 'uuid' }) @Column('uuid') instanceId!: string;
  @WireField({ enum: CHANNEL_TYPES }) @Column('text') channelType!: ChannelType;
  @WireField({ maxLength: 50 }) @Column('text') provider!: string;
  @WireField({ maxLength: 255 }) @Column('text') externalIdentifier!: string;
  @WireField({ json: true }) @Column('jsonb') config!: Record<string, unknown>;
  @WireField({ format: 'uuid', nullable: true }) @Column('uuid', { nullable: true }) connectionId!:
    string | null;
  @Column('uuid', { nullable: true }) credentialId!: string | null;
  @WireField() @Column('boolean') enabled!: boolean;
  @WireField({ enum: CHANNEL_STATUSES }) @Column('text') status!: ChannelStatus;
  @WireField({ nullable: true, type: 'string' }) @Column('text', { nullable: true }) errorMessage!:
    string | null;
  @WireField({ format: 'date-time', nullable: true })
  @Column('timestamptz', { nullable: true })
  lastEventAt!: Date | null;
  @Column('bytea', { nullable: true }) webhookSecret!: Buffer | null;
  @WireField({ format: 'date-time' }) @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @WireField({ format: 'date-time' }) @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;

  @WireField({
    description: 'Whether a webhook secret is stored (the secret itself is never returned)',
  })
  get hasWebhookSecret(): boolean {
    return this.webhookSecret !== null && this.webhookSecret !== undefined;
  }
}
