import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { WireField } from '../common/wire';
import { RuleAction } from './actions';
import { Condition } from './conditions';

/** What the flag means, for the response schema and the request's. */
export const OVERRIDE_DOC =
  'On a tenant default (customer_id null): whether a customer rule with the same rule_key ' +
  'replaces it for that customer. false makes the default a guard: it fires for every ' +
  'customer whatever their rules. Always true on a customer rule.';

/** "When this event happens and these conditions hold, do this." Also the response schema. */
@Entity('rules')
export class Rule {
  @WireField({ json: true, type: 'array', items: { type: 'object' } })
  @Column('jsonb')
  actions!: RuleAction[];
  @WireField({ description: OVERRIDE_DOC }) @Column('boolean') allowCustomerOverride!: boolean;
  @WireField({ json: true, type: 'array', items: { type: 'object' } })
  @Column('jsonb')
  conditions!: Condition[];
  @WireField({ type: 'integer', minimum: 0 }) @Column('integer') cooldownSeconds!: number;
  @WireField({ format: 'date-time' }) @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @WireField({
    format: 'uuid',
    nullable: true,
    description: 'NULL = tenant-wide, set = customer-specific',
  })
  @Column('uuid', { nullable: true })
  customerId!: string | null;
  @WireField({ nullable: true, type: 'string' }) @Column('text', { nullable: true }) description!:
    string | null;
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') id!: string;
  @WireField({ format: 'uuid', nullable: true }) @Column('uuid', { nullable: true }) instanceId!:
    string | null;
  @WireField() @Column('boolean') isActive!: boolean;
  @WireField({ format: 'date-time', nullable: true })
  @Column('timestamptz', { nullable: true })
  lastTriggeredAt!: Date | null;
  @WireField() @Column('text') name!: string;
  @WireField({ type: 'integer', minimum: 0 }) @Column('integer') priority!: number;
  @WireField({
    nullable: true,
    type: 'string',
    description:
      'Override key: a customer rule with the same key replaces the tenant default for its customer, unless the default has allow_customer_override false',
  })
  @Column('text', { nullable: true })
  ruleKey!: string | null;
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') tenantId!: string;
  @WireField({ type: 'integer', minimum: 0 }) @Column('integer') triggerCount!: number;
  @WireField() @Column('text') triggerEvent!: string;
  @WireField({ format: 'date-time' }) @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
}
