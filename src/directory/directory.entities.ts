import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import { ROLES, Role } from '../auth/roles';
import { WireField } from '../common/wire';

export const TENANT_STATUSES = ['active', 'suspended'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

/**
 * Directory rows. Each class is also its response schema: only @WireField properties are ever
 * serialised, so key hashes stay inside.
 */
@Entity('tenants')
export class Tenant {
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') id!: string;
  @WireField({ minLength: 1, maxLength: 200 }) @Column('text') name!: string;
  @WireField({ enum: TENANT_STATUSES, description: 'A suspended tenant is refused every call' })
  @Column('text', { default: 'active' })
  status!: TenantStatus;
  @WireField({ format: 'date-time' }) @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
}

@Entity('customers')
export class Customer {
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') id!: string;
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') tenantId!: string;
  @WireField({ minLength: 1, maxLength: 200 }) @Column('text') name!: string;
  @WireField({ format: 'date-time' }) @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
}

@Entity('persons')
export class Person {
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') id!: string;
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') tenantId!: string;
  @WireField({ format: 'uuid' }) @Column('uuid') customerId!: string;
  @WireField({ minLength: 1, maxLength: 200 }) @Column('text') name!: string;
  @WireField({ nullable: true, format: 'email' }) @Column('text', { nullable: true }) email!:
    string | null;
  @WireField({ nullable: true, type: 'string' })
  @Column('text', { nullable: true })
  phone!: string | null;
  @WireField({ format: 'date-time' }) @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  /** Erased persons keep their row and id, so histories keep naming them; no route shows them. */
  @Column('timestamptz', { nullable: true }) erasedAt!: Date | null;
}

@Entity('instances')
export class Instance {
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') id!: string;
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') tenantId!: string;
  @WireField({ minLength: 1, maxLength: 200 }) @Column('text') name!: string;
  @WireField({ format: 'date-time' }) @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  /** Deleted instances keep their row, so what names them keeps a valid reference. */
  @Column('timestamptz', { nullable: true }) deletedAt!: Date | null;
}

@Entity('proxy_keys')
export class ProxyKey {
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') id!: string;
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') tenantId!: string;
  @WireField({ format: 'uuid' }) @Column('uuid') instanceId!: string;
  @Column('bytea') keyHash!: Buffer;
  @WireField({ description: 'Last characters of the key, to tell keys apart' })
  @Column('text')
  keyHint!: string;
  @WireField({ format: 'date-time' }) @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @WireField({ format: 'date-time', nullable: true })
  @Column('timestamptz', { nullable: true })
  revokedAt!: Date | null;
  @WireField({
    format: 'date-time',
    nullable: true,
    description: 'When a rotated key stops working (the end of its grace)',
  })
  @Column('timestamptz', { nullable: true })
  expiresAt!: Date | null;
}

@Entity('api_keys')
export class ApiKey {
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') id!: string;
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') tenantId!: string;
  @WireField({ minLength: 1, maxLength: 200 }) @Column('text') name!: string;
  @WireField({ enum: ROLES }) @Column('text') role!: Role;
  @WireField({ format: 'uuid', nullable: true })
  @Column('uuid', { nullable: true })
  customerId!: string | null;
  @Column('bytea') keyHash!: Buffer;
  @WireField({ description: 'Last characters of the key, to tell keys apart' })
  @Column('text')
  keyHint!: string;
  @WireField({ format: 'date-time' }) @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @WireField({ format: 'date-time', nullable: true })
  @Column('timestamptz', { nullable: true })
  revokedAt!: Date | null;
  @WireField({ format: 'date-time', nullable: true, description: 'Refused from then on' })
  @Column('timestamptz', { nullable: true })
  expiresAt!: Date | null;
  @WireField({
    format: 'date-time',
    nullable: true,
    description: 'When the key last authenticated, to within a minute',
  })
  @Column('timestamptz', { nullable: true })
  lastUsedAt!: Date | null;
}
