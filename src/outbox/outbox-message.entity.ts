import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type OutboxKind = 'approval.replay' | 'notify';
export type OutboxStatus = 'pending' | 'delivered' | 'dead';

/** A message decided in a transaction and delivered after it (transactional outbox). */
@Entity('outbox')
export class OutboxMessage {
  @PrimaryColumn('uuid') id!: string;
  @PrimaryColumn('uuid') tenantId!: string;
  @Column('text') kind!: OutboxKind;
  @Column('uuid', { nullable: true }) approvalId!: string | null;
  @Column('jsonb') payload!: Record<string, unknown>;
  @Column('text') status!: OutboxStatus;
  @Column('integer') attempts!: number;
  @Column('timestamptz') nextAttemptAt!: Date;
  @Column('text', { nullable: true }) lastError!: string | null;
  @Column('timestamptz', { nullable: true }) deliveredAt!: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
}
