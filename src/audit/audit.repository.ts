import { Injectable } from '@nestjs/common';
import { EntityManager, LessThan } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { TenantDb } from '../database/tenant-db';
import { AuditEntry } from './audit-entry.entity';

type NewEntry = Omit<AuditEntry, 'tenantId' | 'seq' | 'at'>;

export interface AuditFilter {
  targetId?: string;
  action?: string;
  /** Entries older than this position. */
  beforeSeq?: string;
  limit: number;
}

/** `audit_log`: inserted and read, never updated or deleted (the runtime role may not). */
@Injectable()
export class AuditRepository {
  constructor(private readonly db: TenantDb) {}

  private get m(): EntityManager {
    return this.db.manager;
  }

  /** tenant_id is left to the column's default: the transaction's own tenant. */
  async insert(entry: NewEntry): Promise<void> {
    // jsonb `changes` is a plain object, which TypeORM's deep-partial type cannot tell apart.
    await this.m.insert(AuditEntry, entry as QueryDeepPartialEntity<AuditEntry>);
  }

  /** The position of an entry of this tenant, null when it has none of that id. */
  async seqOf(tenantId: string, id: string): Promise<string | null> {
    const row = await this.m.findOne(AuditEntry, {
      select: { seq: true },
      where: { tenantId, id },
    });
    return row?.seq ?? null;
  }

  /** Newest first. */
  list(tenantId: string, f: AuditFilter): Promise<AuditEntry[]> {
    return this.m.find(AuditEntry, {
      where: {
        tenantId,
        ...(f.targetId !== undefined ? { targetId: f.targetId } : {}),
        ...(f.action !== undefined ? { action: f.action } : {}),
        ...(f.beforeSeq !== undefined ? { seq: LessThan(f.beforeSeq) } : {}),
      },
      order: { seq: 'DESC' },
      take: f.limit,
    });
  }
}
