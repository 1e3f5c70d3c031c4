import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { WireField } from '../common/wire';
import { APPROVER_ROLES, ApproverRole } from './approval-request';

export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];
export const REPLAY_STATUSES = ['pending', 'delivered', 'dead'] as const;
export type ReplayStatus = (typeof REPLAY_STATUSES)[number];

/** A held action waiting for a human's yes or no. Also the response schema. */
@Entity('approvals')
export class Approval {
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') id!: string;
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') tenantId!: string;
  @WireField({ example: 'APR-7KQ2MX9D', description: 'Unique in the tenant; no 0/O/1/I' })
  @Column('text')
  approvalRef!: string;
  @WireField({ format: 'uuid' }) @Column('uuid') customerId!: string;
  @WireField({ format: 'uuid', nullable: true }) @Column('uuid', { nullable: true }) instanceId!:
    string | null;
  @WireField({ format: 'uuid', nullable: true }) @Column('uuid', { nullable: true }) ruleId!:
    string | null;
  @WireField() @Column('text') skillSlug!: string;
  @WireField() @Column('text') action!: string;
  @WireField({ json: true, description: 'Full params to replay on approval' })
  @Column('jsonb')
  serializedIntent!: Record<string, unknown>;
  @WireField({
    description: 'SHA-256 of the canonical JSON of skill_slug, action and serialized_intent',
  })
  @Column('text')
  intentHash!: string;
  @WireField({ enum: APPROVER_ROLES }) @Column('text') approverRole!: ApproverRole;
  @WireField({ format: 'uuid', nullable: true })
  @Column('uuid', { nullable: true })
  approverPersonId!: string | null;
  @WireField({ nullable: true, type: 'string' })
  @Column('text', { nullable: true })
  notifyChannel!: string | null;
  @WireField({ nullable: true, type: 'string' })
  @Column('text', { nullable: true })
  idempotencyKey!: string | null;
  @Column('text') requestHash!: string;
  @WireField({ enum: APPROVAL_STATUSES }) @Column('text') status!: ApprovalStatus;
  @WireField({ format: 'date-time' }) @Column('timestamptz') expiresAt!: Date;
  @WireField({ format: 'date-time', nullable: true })
  @Column('timestamptz', { nullable: true })
  resolvedAt!: Date | null;
  @WireField({ nullable: true, type: 'string' }) @Column('text', { nullable: true }) resolvedBy!:
    string | null;
  @WireField({ nullable: true, enum: APPROVER_ROLES })
  @Column('text', { nullable: true })
  resolverRole!: ApproverRole | null;
  @WireField({ format: 'uuid', nullable: true })
  @Column('uuid', { nullable: true })
  resolverPersonId!: string | null;
  @WireField({ nullable: true, type: 'string' })
  @Column('text', { nullable: true })
  resolutionChannel!: string | null;
  @WireField({
    nullable: true,
    enum: REPLAY_STATUSES,
    description: 'Delivery of the approved intent (approved only)',
  })
  replayStatus: ReplayStatus | null = null;
  @WireField({ type: 'integer', description: 'Delivery attempts so far' }) replayAttempts = 0;
  @WireField({ format: 'date-time' }) @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @WireField({ format: 'date-time' }) @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
}
