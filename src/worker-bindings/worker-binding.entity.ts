import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { WireField } from '../common/wire';
import { BINDING_CHANNELS, BindingChannel } from './addresses';

export const BINDING_STATUSES = ['unverified', 'verified', 'revoked'] as const;
export type BindingStatus = (typeof BINDING_STATUSES)[number];

/** Which person answers on which channel address. Also the response schema. */
@Entity('worker_bindings')
export class WorkerBinding {
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') id!: string;
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') tenantId!: string;
  @WireField({ format: 'uuid' }) @Column('uuid') customerId!: string;
  @WireField({ format: 'uuid' }) @Column('uuid') personId!: string;
  @WireField({ format: 'uuid', nullable: true, description: 'The instance that made it, if any' })
  @Column('uuid', { nullable: true })
  instanceId!: string | null;
  @WireField({ enum: BINDING_CHANNELS }) @Column('text') channelType!: BindingChannel;
  @WireField({ description: 'Normalised: E.164, lower-cased email, Telegram chat id or @username' })
  @Column('text')
  channelAddress!: string;
  @WireField({ enum: BINDING_STATUSES }) @Column('text') status!: BindingStatus;
  @WireField({ format: 'date-time', nullable: true })
  @Column('timestamptz', { nullable: true })
  verifiedAt!: Date | null;
  @WireField({ format: 'date-time', nullable: true })
  @Column('timestamptz', { nullable: true })
  revokedAt!: Date | null;
  @WireField({
    format: 'uuid',
    nullable: true,
    description: 'The binding this one replaced (rebind)',
  })
  @Column('uuid', { nullable: true })
  previousBindingId!: string | null;
  @WireField({ format: 'date-time' }) @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @WireField({ format: 'date-time' }) @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
}
