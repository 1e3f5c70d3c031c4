import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { RawJson } from '../common/raw-json';
import { WireField } from '../common/wire';
import { WORKFLOW_STATUSES, WORKFLOW_TYPES, WorkflowStatus, WorkflowType } from './state-machine';

/**
 * One audit entry, never rewritten. Stored as JSON under these fields' wire names, since the
 * stored history is what responses carry: workflow-history.ts builds it from this declaration.
 */
export class WorkflowHistoryEntry {
  @WireField({ format: 'date-time' }) at!: string;
  @WireField({ example: 'escalated' }) action!: string;
  @WireField({ nullable: true, description: 'Any JSON the caller gave' }) actionDetail!: unknown;
  @WireField({ example: 'instance:…, user:…, system' }) actor!: string;
  @WireField({ enum: WORKFLOW_STATUSES, nullable: true }) fromStatus!: WorkflowStatus | null;
  @WireField({ enum: WORKFLOW_STATUSES }) toStatus!: WorkflowStatus;
  @WireField({ nullable: true, type: 'string' }) fromStage!: string | null;
  @WireField({ nullable: true, type: 'string' }) toStage!: string | null;
}

/** The action_detail of a `suspended` entry, written by the API. */
export class SuspendedDetail {
  @WireField() step!: string;
  @WireField({ json: true, nullable: true }) payload!: unknown;
}

/** The action_detail of a `resumed` entry, written by the API. */
export class ResumedDetail {
  @WireField({ nullable: true, type: 'string' }) resumedFromStep!: string | null;
  @WireField({ json: true, nullable: true }) resumeData!: Record<string, unknown> | null;
}

/**
 * A long-running business case. Also the response schema. Its JSON documents are read as text
 * and sent as read (RawJson); the OpenAPI schema still describes their shape.
 */
@Entity('workflows')
export class Workflow {
  @WireField({ format: 'uuid', nullable: true }) @Column('uuid', { nullable: true }) approverId!:
    string | null;
  @WireField({ nullable: true, type: 'string' }) @Column('text', { nullable: true }) assignedTo!:
    string | null;
  @WireField({ format: 'date-time', nullable: true })
  @Column('timestamptz', { nullable: true })
  completedAt!: Date | null;
  @WireField({ format: 'date-time' }) @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @WireField({ format: 'uuid' }) @Column('uuid') customerId!: string;
  @WireField({ type: 'integer', minimum: 0 }) @Column('integer') escalationLevel!: number;
  @WireField({ format: 'date-time', nullable: true })
  @Column('timestamptz', { nullable: true })
  expiresAt!: Date | null;
  @WireField({ json: true, type: [WorkflowHistoryEntry] })
  @Column('jsonb')
  history!: RawJson;
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') id!: string;
  @WireField({ format: 'uuid' }) @Column('uuid') instanceId!: string;
  @WireField({ format: 'date-time', nullable: true })
  @Column('timestamptz', { nullable: true })
  lastActionAt!: Date | null;
  @WireField({ format: 'date-time', nullable: true })
  @Column('timestamptz', { nullable: true })
  nextActionAt!: Date | null;
  @WireField({ nullable: true, type: 'string' }) @Column('text', { nullable: true }) reference!:
    string | null;
  @WireField({ nullable: true, type: 'string' }) @Column('text', { nullable: true }) stage!:
    string | null;
  @WireField({ enum: WORKFLOW_STATUSES }) @Column('text') status!: WorkflowStatus;
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') tenantId!: string;
  @WireField({ nullable: true, type: 'string' }) @Column('text', { nullable: true }) title!:
    string | null;
  @WireField({ format: 'date-time' }) @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
  @WireField({ json: true }) @Column('jsonb') workflowState!: RawJson;
  @WireField({ enum: WORKFLOW_TYPES }) @Column('text') workflowType!: WorkflowType;
  @WireField({ nullable: true, type: 'string' })
  @Column('text', { nullable: true })
  suspendedStep!: string | null;
  @WireField({ json: true, nullable: true })
  @Column('jsonb', { nullable: true })
  suspendedPayload!: RawJson | null;
  @WireField({ format: 'date-time', nullable: true })
  @Column('timestamptz', { nullable: true })
  suspendedAt!: Date | null;
}
