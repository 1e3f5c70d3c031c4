import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { RawJson } from '../common/raw-json';
import { invalidField } from '../common/errors';
import { hydrate, isForeignKeyViolation } from '../database/rows';
import { TenantDb } from '../database/tenant-db';
import { refuseUnknownCustomer } from '../directory/customer-reference';
import { Approval, ApprovalStatus } from './approval.entity';

/** The approvals table's reference to the rule that asked for one (see insertUnlessTaken). */
const RULE_REFERENCE = 'approvals_tenant_id_rule_id_fkey';

export type NewApproval = Omit<
  Approval,
  | 'status'
  | 'resolvedAt'
  | 'resolvedBy'
  | 'resolverRole'
  | 'resolverPersonId'
  | 'resolutionChannel'
  | 'replayStatus'
  | 'replayAttempts'
  | 'createdAt'
  | 'updatedAt'
  | 'expiresAt'
> & { expiresInHours: number };

export interface Resolution {
  status: 'approved' | 'rejected';
  resolvedBy: string | null;
  resolverRole: string;
  resolverPersonId: string | null;
  resolutionChannel: string | null;
}

@Injectable()
export class ApprovalsRepository {
  constructor(private readonly db: TenantDb) {}

  private get m(): EntityManager {
    return this.db.manager;
  }

  /** The replay's delivery state is the outbox's: the service attaches it where it can exist. */
  private read(row: Record<string, unknown>): Approval {
    return hydrate(this.m, Approval, row);
  }

  /**
   * Inserts unless a unique key is taken (its idempotency key, or by rare chance its reference).
   * A concurrent insert of the same key makes this one wait for it, so the loser sees the winner.
   * A customer or a rule the tenant does not have is refused by the table's keys, here rather
   * than by reads beforehand. When both are unknown, the customer's is reported: PostgreSQL
   * fires key triggers in the order of their names, `RI_ConstraintTrigger_c_<oid>`, which is
   * the order the keys were declared in while their OIDs have as many digits (a restore that
   * put them on either side of a power of ten would report the rule). A taken key inserts
   * nothing and checks no reference, so a key's replay with another body is a conflict
   * whatever it names.
   */
  async insertUnlessTaken(a: NewApproval): Promise<Approval | null> {
    const rows = await this.insertRow(a).catch((error: unknown) => {
      if (isForeignKeyViolation(error, RULE_REFERENCE))
        throw invalidField('ruleId', 'Rule not found');
      return refuseUnknownCustomer('approvals')(error);
    });
    return rows[0] ? this.read(rows[0]) : null;
  }

  private insertRow(a: NewApproval): Promise<Record<string, unknown>[]> {
    return this.m.query<Record<string, unknown>[]>(
      `INSERT INTO approvals (tenant_id, id, approval_ref, customer_id, instance_id, rule_id, skill_slug, action,
          serialized_intent, intent_hash, approver_role, approver_person_id, notify_channel, idempotency_key,
          request_hash, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14, $15, now() + make_interval(hours => $16))
       ON CONFLICT DO NOTHING
       RETURNING *`,
      [
        a.tenantId,
        a.id,
        a.approvalRef,
        a.customerId,
        a.instanceId,
        a.ruleId,
        a.skillSlug,
        a.action,
        JSON.stringify(a.serializedIntent),
        a.intentHash,
        a.approverRole,
        a.approverPersonId,
        a.notifyChannel,
        a.idempotencyKey,
        a.requestHash,
        a.expiresInHours,
      ],
    );
  }

  async byIdempotencyKey(tenantId: string, key: string): Promise<Approval | null> {
    const rows = await this.m.query<Record<string, unknown>[]>(
      `SELECT * FROM approvals WHERE tenant_id = $1 AND idempotency_key = $2`,
      [tenantId, key],
    );
    return rows[0] ? this.read(rows[0]) : null;
  }

  /** Row-locked: concurrent resolutions of one approval queue up and see each other's outcome. */
  async lockByRef(
    tenantId: string,
    ref: string,
  ): Promise<{ approval: Approval; pastExpiry: boolean } | null> {
    // Past its expiry by the database's clock, as the sweeper and expires_at itself are: a
    // replica's own clock, a little off, would approve what the database holds expired.
    const rows = await this.m.query<(Record<string, unknown> & { past_expiry: boolean })[]>(
      `SELECT *, expires_at <= now() AS past_expiry FROM approvals
        WHERE tenant_id = $1 AND approval_ref = $2 FOR UPDATE`,
      [tenantId, ref],
    );
    return rows[0] ? { approval: this.read(rows[0]), pastExpiry: rows[0].past_expiry } : null;
  }

  async setStatus(a: Approval, status: ApprovalStatus, resolution?: Resolution): Promise<Approval> {
    const [rows] = await this.m.query<[Record<string, unknown>[], number]>(
      `UPDATE approvals
          SET status = $3, updated_at = now(),
              resolved_at = CASE WHEN $4::boolean THEN now() ELSE resolved_at END,
              resolved_by = $5, resolver_role = $6, resolver_person_id = $7, resolution_channel = $8
        WHERE tenant_id = $1 AND id = $2
        RETURNING *`,
      [
        a.tenantId,
        a.id,
        status,
        resolution !== undefined,
        resolution?.resolvedBy ?? null,
        resolution?.resolverRole ?? null,
        resolution?.resolverPersonId ?? null,
        resolution?.resolutionChannel ?? null,
      ],
    );
    return this.read(rows[0]);
  }

  /**
   * Every column, the intent as text: a list sends the intents as read, never parsed. Within
   * its 64 KiB cap an intent of empty objects costs megabytes of heap once parsed, and a page
   * of them more than the process has (see RawJson).
   */
  private get listed(): string {
    return (this.listedColumns ??= this.m.connection
      .getMetadata(Approval)
      .columns.map((c) =>
        c.databaseName === 'serialized_intent'
          ? 'serialized_intent::text AS serialized_intent'
          : c.databaseName,
      )
      .join(', '));
  }
  private listedColumns?: string;

  private readListed(row: Record<string, unknown>): Approval {
    const approval = this.read(row);
    approval.serializedIntent = new RawJson(row.serialized_intent as string) as never;
    return approval;
  }

  /** Pending and not yet past expires_at (the sweeper may not have been by yet), newest first. */
  async pending(tenantId: string, customerId: string, limit: number): Promise<Approval[]> {
    const rows = await this.m.query<Record<string, unknown>[]>(
      `SELECT ${this.listed} FROM approvals
        WHERE tenant_id = $1 AND customer_id = $2 AND status = 'pending' AND expires_at > now()
        ORDER BY created_at DESC, id DESC LIMIT $3`,
      [tenantId, customerId, limit],
    );
    return rows.map((r) => this.readListed(r));
  }

  async page(
    tenantId: string,
    filter: { customerId?: string; status?: ApprovalStatus },
    limit: number,
    offset: number,
  ): Promise<[Approval[], number]> {
    const params: unknown[] = [tenantId];
    let where = 'tenant_id = $1';
    if (filter.customerId) where += ` AND customer_id = $${params.push(filter.customerId)}`;
    if (filter.status) where += ` AND status = $${params.push(filter.status)}`;
    const admission = this.db.admission;
    const [rows, count] = await admission.walk(tenantId, offset, () =>
      Promise.all([
        this.m.query<Record<string, unknown>[]>(
          `SELECT ${this.listed} FROM approvals WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
          [...params, limit, offset],
        ),
        this.m.query<{ count: string }[]>(`SELECT count(*) FROM approvals WHERE ${where}`, params),
      ]),
    );
    const total = Number(count[0].count);
    admission.chargeWalk(tenantId, Math.min(offset, total));
    admission.chargeCount(tenantId, total);
    return [rows.map((r) => this.readListed(r)), total];
  }

  /**
   * Marks up to `limit` of this tenant's pending approvals past expires_at as expired, oldest
   * first, and returns them. Rows another transaction holds are skipped (SKIP LOCKED: see
   * TenantJob); one it expired meanwhile no longer matches once its lock is released.
   */
  async expireDue(tenantId: string, limit: number): Promise<Approval[]> {
    const [rows] = await this.m.query<[Record<string, unknown>[], number]>(
      `WITH due AS (
         SELECT id FROM approvals WHERE tenant_id = $1 AND status = 'pending' AND expires_at <= now()
          ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE approvals a SET status = 'expired', updated_at = now()
         FROM due WHERE a.tenant_id = $1 AND a.id = due.id
       RETURNING a.*`,
      [tenantId, limit],
    );
    return rows.map((r) => this.read(r));
  }

  /**
   * Tenants with pending approvals past expires_at, read across tenants as hydracore_worker.
   * The role's policy on approvals shows it exactly those rows, and only their tenant id, so
   * the condition is the policy's, read from the partial index approvals_expired. It runs every
   * second, and left to its estimates the planner reads every approval (see `asWorker`).
   */
  async tenantsWithExpired(): Promise<string[]> {
    const rows = await this.db.asWorker<{ tenant_id: string }>(
      'SELECT DISTINCT tenant_id FROM approvals',
      { overIndexes: true },
    );
    return rows.map((r) => r.tenant_id);
  }
}
