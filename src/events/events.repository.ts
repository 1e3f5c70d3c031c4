import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { TenantDb } from '../database/tenant-db';
import { Rule } from '../rules/rule.entity';

@Injectable()
export class EventsRepository {
  constructor(private readonly db: TenantDb) {}

  private get m(): EntityManager {
    return this.db.manager;
  }

  async rulesVersion(tenantId: string): Promise<number> {
    const rows = await this.m.query<{ version: string }[]>(
      `SELECT version FROM rule_versions WHERE tenant_id = $1`,
      [tenantId],
    );
    return rows[0] ? Number(rows[0].version) : 0;
  }

  activeRules(tenantId: string): Promise<Rule[]> {
    return this.m.find(Rule, {
      where: { tenantId, isActive: true },
      order: { priority: 'DESC', createdAt: 'ASC', id: 'ASC' },
    });
  }

  /**
   * Claims the rule's cooldown for this customer, atomically: concurrent claims queue on the row
   * and only the first finds it cool. With no cooldown every claim succeeds.
   */
  async claimCooldown(
    tenantId: string,
    ruleId: string,
    customerId: string,
    cooldownSeconds: number,
  ): Promise<boolean> {
    const rows = await this.m.query<unknown[]>(
      `INSERT INTO rule_cooldowns (tenant_id, rule_id, customer_id, last_fired_at) VALUES ($1, $2, $3, clock_timestamp())
       ON CONFLICT (tenant_id, rule_id, customer_id) DO UPDATE SET last_fired_at = clock_timestamp()
        WHERE $4 = 0 OR rule_cooldowns.last_fired_at <= clock_timestamp() - make_interval(secs => $4)
       RETURNING 1`,
      [tenantId, ruleId, customerId, cooldownSeconds],
    );
    return rows.length > 0;
  }

  async countFiring(tenantId: string, ruleId: string): Promise<void> {
    await this.m.query(
      `UPDATE rules SET trigger_count = trigger_count + 1, last_triggered_at = now() WHERE tenant_id = $1 AND id = $2`,
      [tenantId, ruleId],
    );
  }

  /**
   * Claims an idempotency key. Returns null when this request claimed it; otherwise the first
   * request's hash and answer (a concurrent first request is waited for by the unique key).
   */
  async claimReceipt(
    tenantId: string,
    key: string,
    requestHash: string,
  ): Promise<{ requestHash: string; response: unknown } | null> {
    const inserted = await this.m.query<unknown[]>(
      `INSERT INTO event_receipts (tenant_id, idempotency_key, request_hash) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING 1`,
      [tenantId, key, requestHash],
    );
    if (inserted.length > 0) return null;
    const rows = await this.m.query<{ request_hash: string; response: unknown }[]>(
      `SELECT request_hash, response FROM event_receipts WHERE tenant_id = $1 AND idempotency_key = $2`,
      [tenantId, key],
    );
    return { requestHash: rows[0].request_hash, response: rows[0].response };
  }

  async storeReceipt(tenantId: string, key: string, response: unknown): Promise<void> {
    await this.m.query(
      `UPDATE event_receipts SET response = $3::jsonb WHERE tenant_id = $1 AND idempotency_key = $2`,
      [tenantId, key, JSON.stringify(response)],
    );
  }
}
