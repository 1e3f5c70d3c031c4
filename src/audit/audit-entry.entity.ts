import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Who made a change: a user (JWT `sub`), an API key (its id) or the platform operator. */
export type ActorKind = 'user' | 'api_key' | 'platform';

/**
 * One row of `audit_log`. `tenantId` is the transaction's tenant (the column's default): an
 * entry always belongs to the tenant whose change it records. `seq` orders the log and is never
 * shown, since it counts every tenant's entries.
 */
@Entity('audit_log')
export class AuditEntry {
  @PrimaryColumn('uuid') tenantId!: string;
  @PrimaryColumn('uuid') id!: string;
  @Column({ type: 'bigint', insert: false, update: false }) seq!: string;
  @Column({ type: 'timestamptz', insert: false, update: false }) at!: Date;
  @Column('text') actorKind!: ActorKind;
  @Column('text', { nullable: true }) actorId!: string | null;
  @Column('text') action!: string;
  @Column('text') targetType!: string;
  @Column('uuid') targetId!: string;
  @Column('text', { nullable: true }) requestId!: string | null;
  /** `{field: [old, new]}` (see changes.ts), stored as the JSON it is. */
  @Column('jsonb') changes!: Record<string, unknown>;
}
