import { Column, Entity, PrimaryColumn } from 'typeorm';
import { RawJson } from '../common/raw-json';
import { WireField } from '../common/wire';

/** PostgreSQL's bigint arrives as text; feed positions stay far below 2^53. */
const bigintAsNumber = {
  to: (value: number | null) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/**
 * Something that happened in a tenant, as the feed, the dashboard and (later) webhooks show it.
 * Written in the transaction of the change it records; its `sequence` is given after commit.
 */
@Entity('events')
export class LoggedEvent {
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') id!: string;
  @WireField({ example: 'workflow.stage_changed' }) @Column('text') type!: string;
  @WireField({
    type: 'integer',
    minimum: 1,
    description: "The event's position in its tenant's feed: gap-free, in commit order",
  })
  @Column('bigint', { transformer: bigintAsNumber })
  sequence!: number;
  @WireField({ format: 'date-time' }) @Column('timestamptz') occurredAt!: Date;
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') tenantId!: string;
  @WireField({ format: 'uuid', nullable: true }) @Column('uuid', { nullable: true }) instanceId!:
    string | null;
  @WireField({ format: 'uuid', nullable: true }) @Column('uuid', { nullable: true }) customerId!:
    string | null;
  @WireField({
    format: 'uuid',
    nullable: true,
    description: 'The event whose rule raised this one, if a rule did',
  })
  @Column('uuid', { nullable: true })
  causedBy!: string | null;
  /** How many rule firings led here: 0 for events of routes and timers. */
  @Column('smallint') depth!: number;
  /** Read for clients as text and sent as it is (RawJson); parsed only where written. */
  @WireField({ json: true, description: "The event's content; its fields depend on its type" })
  @Column('jsonb')
  data!: Record<string, unknown> | RawJson;
}
