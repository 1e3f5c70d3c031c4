import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import { ROLES, Role } from '../auth/roles';
import { WireField } from '../common/wire';

/**
 * Directory rows. Each class is also its response schema: only @WireField properties are ever
 * serialised, so key hashes stay inside.
 */
@Entity('tenants')
export class Tenant {
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') id!: string;
  @WireField({ minLength: 1, maxLength: 200 }) @Column('text') name!: string;
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
}

@Entity('instances')
export class Instance {
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') id!: string;
  @WireField({ format: 'uuid' }) @PrimaryColumn('uuid') tenantId!: string;
  @WireField({ minLength: 1, maxLength: 200 }) @Column('text') name!: string;
  @WireField({ format: 'date-time' }) @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
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
}
