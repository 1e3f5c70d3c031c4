import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { RawJson } from '../common/raw-json';
import { hydrate } from '../database/rows';
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

  /**
   * Newest first, `changes` as text (RawJson). A rule's update copies its old and new conditions
   * and actions into the entry, some 60 kB at their caps, so a page of 200 may hold 12 MB:
   * parsed and written out again it held the event loop for everyone, and read at once by one
   * tenant over and over, it made every other tenant wait. Passed on as text, it costs a copy;
   * a page over LARGE_PAGE_BYTES takes its turn like any large response.
   */
  async list(tenantId: string, f: AuditFilter): Promise<AuditEntry[]> {
    const params: unknown[] = [tenantId, f.limit];
    let where = 'tenant_id = $1';
    if (f.targetId !== undefined) where += ` AND target_id = $${params.push(f.targetId)}`;
    if (f.action !== undefined) where += ` AND action = $${params.push(f.action)}`;
    if (f.beforeSeq !== undefined) where += ` AND seq < $${params.push(f.beforeSeq)}`;
    const rows = await this.m.query<Record<string, unknown>[]>(
      `SELECT ${COLUMNS} FROM audit_log WHERE ${where} ORDER BY seq DESC LIMIT $2`,
      params,
    );
    const bytes = rows.reduce((sum, row) => sum + (row.changes as string).length, 0);
    if (bytes > LARGE_PAGE_BYTES) await this.db.holdForResponse(bytes);
    return rows.map((row) => {
      const entry = hydrate(this.m, AuditEntry, row);
      entry.changes = new RawJson(row.changes as string) as never;
      return entry;
    });
  }
}

const COLUMNS = `tenant_id, id, seq, at, actor_kind, actor_id, action, target_type, target_id,
  request_id, changes::text AS changes`;

/** Past this much text, a page is a large response: see TenantDb.holdForResponse. */
const LARGE_PAGE_BYTES = 1024 * 1024;
