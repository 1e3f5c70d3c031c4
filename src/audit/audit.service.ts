import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { invalidField } from '../common/errors';
import { AUDIT_CONTEXT, AuditContext } from './audit-context';
import { AuditEntry } from './audit-entry.entity';
import { AuditRepository } from './audit.repository';
import { Changes, changesOf } from './changes';
import {
  AUDIT_PAGE,
  AuditActor,
  AuditEntryView,
  AuditLogPage,
  AuditLogQuery,
} from './dto/audit.dto';

export interface AuditRecord {
  /** `<target type>.<what happened>`: 'rule.updated', 'api_key.revoked'. */
  action: string;
  targetType: string;
  targetId: string;
  /** From `changesOf`: named fields only, secrets redacted. */
  changes?: Changes;
}

@Injectable()
export class AuditService {
  constructor(
    private readonly repo: AuditRepository,
    private readonly cls: ClsService,
  ) {}

  /**
   * Records one entry in the current transaction, so it commits exactly when the change does,
   * with the caller and request id of the current request. Only audited routes (`@Audited()`)
   * record: the same service method called by the runtime's routes, or outside any request (the
   * demo seed), records nothing, since what the runtime does is in the event log instead.
   */
  async record(entry: AuditRecord): Promise<void> {
    const context = this.cls.isActive() ? this.cls.get<AuditContext>(AUDIT_CONTEXT) : undefined;
    if (!context) return;
    context.recorded += 1;
    await this.repo.insert({
      id: randomUUID(),
      actorKind: context.actor.kind,
      actorId: context.actor.id,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId,
      requestId: context.requestId,
      changes: entry.changes ?? {},
    });
  }

  /** `<type>.created`, with the named fields of the new row as `[null, value]`. */
  created<T extends { id: string }>(
    type: string,
    row: T,
    fields: readonly (keyof T & string)[],
    withheld: readonly (keyof T & string)[] = [],
  ): Promise<void> {
    return this.record({
      action: `${type}.created`,
      targetType: type,
      targetId: row.id,
      changes: changesOf(null, row, fields, withheld),
    });
  }

  /** `<type>.updated`, with the named fields that differ between the two. */
  updated<T extends { id: string }>(
    type: string,
    before: T,
    after: T,
    fields: readonly (keyof T & string)[],
    withheld: readonly (keyof T & string)[] = [],
  ): Promise<void> {
    return this.record({
      action: `${type}.updated`,
      targetType: type,
      targetId: before.id,
      changes: changesOf(before, after, fields, withheld),
    });
  }

  /** `<type>.deleted`, with the named fields of the row as it was as `[value, null]`. */
  deleted<T extends { id: string }>(
    type: string,
    before: T,
    fields: readonly (keyof T & string)[],
  ): Promise<void> {
    return this.record({
      action: `${type}.deleted`,
      targetType: type,
      targetId: before.id,
      changes: changesOf(before, null, fields),
    });
  }

  async list(tenantId: string, q: AuditLogQuery): Promise<AuditLogPage> {
    let beforeSeq: string | undefined;
    if (q.after !== undefined) {
      const seq = await this.repo.seqOf(tenantId, q.after);
      if (seq === null)
        throw invalidField('after', 'No such audit entry', 'value_error', [], 'query');
      beforeSeq = seq;
    }
    const limit = q.limit ?? AUDIT_PAGE.defaultLimit;
    const rows = await this.repo.list(tenantId, {
      targetId: q.targetId,
      action: q.action,
      beforeSeq,
      limit: limit + 1,
    });
    const entries = rows.slice(0, limit).map(view);
    return Object.assign(new AuditLogPage(), {
      entries,
      nextAfter: entries.length > 0 ? entries[entries.length - 1].id : null,
      hasMore: rows.length > limit,
    });
  }
}

function view(row: AuditEntry): AuditEntryView {
  return Object.assign(new AuditEntryView(), {
    id: row.id,
    at: row.at,
    actor: Object.assign(new AuditActor(), { kind: row.actorKind, id: row.actorId }),
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    requestId: row.requestId,
    changes: row.changes as Changes,
  });
}
