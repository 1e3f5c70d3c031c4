import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { prepared } from '../../database/prepared';
import { TenantDb } from '../../database/tenant-db';
import { Rule } from '../rule.entity';
import { rulesVersionSql } from './rules-version-sql';

/** See `claimCooldowns`. Prepared: parsing and planning it cost several times its run. */
const CLAIM_COOLDOWNS = prepared(
  `INSERT INTO rule_cooldowns (tenant_id, rule_id, customer_id, last_fired_at)
   SELECT $1, r.id, $2, clock_timestamp()
     FROM unnest($3::uuid[], $4::int[]) WITH ORDINALITY AS r(id, secs, ord)
    WHERE NOT EXISTS (
      SELECT 1 FROM rule_cooldowns c
       WHERE c.tenant_id = $1 AND c.rule_id = r.id AND c.customer_id = $2 AND r.secs > 0
         AND c.last_fired_at > clock_timestamp() - make_interval(secs => r.secs))
    ORDER BY r.ord
   ON CONFLICT (tenant_id, rule_id, customer_id) DO UPDATE SET last_fired_at = clock_timestamp()
    WHERE rule_cooldowns.last_fired_at <= clock_timestamp() - make_interval(secs => (
      SELECT cooldown_seconds FROM rules WHERE tenant_id = $1 AND id = excluded.rule_id))
   RETURNING rule_id`,
);

/** A tenant with no rule written yet has no row: version 0. */
const RULES_VERSION = prepared(`SELECT ${rulesVersionSql('$1')} AS version`);

const COUNT_FIRINGS = prepared(
  `UPDATE rules SET trigger_count = trigger_count + 1, last_triggered_at = now()
    WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
);

/** What firing rules reads and writes: the rule set, its version, cooldowns and counters. */
@Injectable()
export class RuleFiringRepository {
  constructor(private readonly db: TenantDb) {}

  private get m(): EntityManager {
    return this.db.manager;
  }

  /** The tenant's rule version, bumped by a trigger on every rule write (not on firing). */
  async version(tenantId: string): Promise<number> {
    const [row] = await this.m.query<{ version: string }[]>(RULES_VERSION, [tenantId]);
    return Number(row.version);
  }

  /** Only what firing uses: descriptions and counters are not held in the cache's memory. */
  activeRules(tenantId: string): Promise<Rule[]> {
    return this.m.find(Rule, {
      select: {
        id: true,
        name: true,
        customerId: true,
        instanceId: true,
        ruleKey: true,
        allowCustomerOverride: true,
        cooldownSeconds: true,
        triggerEvent: true,
        conditions: true,
        actions: true,
      },
      where: { tenantId, isActive: true },
      order: { priority: 'DESC', createdAt: 'ASC', id: 'ASC' },
    });
  }

  /**
   * Claims the cooldowns of the given rules for this customer in one statement and returns the
   * ids claimed. Concurrent claims queue on each row and only the first finds it cool; a
   * cooldown already running is seen without taking the row's lock, so a burst of events
   * against a hot rule does not queue. Rows are taken in the order given (priority order for
   * every caller), so two events never lock them crosswise. A rule with no cooldown is always
   * claimed. The cooldown read is the rule's current one, in this transaction.
   */
  async claimCooldowns(
    tenantId: string,
    customerId: string,
    rules: readonly { id: string; cooldownSeconds: number }[],
  ): Promise<Set<string>> {
    if (rules.length === 0) return new Set();
    const rows = await this.m.query<{ rule_id: string }[]>(CLAIM_COOLDOWNS, [
      tenantId,
      customerId,
      rules.map((r) => r.id),
      rules.map((r) => r.cooldownSeconds),
    ]);
    return new Set(rows.map((r) => r.rule_id));
  }

  /** Names come from code, never from input. */
  async savepoint(name: string): Promise<void> {
    await this.m.query(`SAVEPOINT ${name}`);
  }

  /** Undoes what this transaction did since the savepoint, which stays set. */
  async rollbackTo(name: string): Promise<void> {
    await this.m.query(`ROLLBACK TO SAVEPOINT ${name}`);
  }

  async release(name: string): Promise<void> {
    await this.m.query(`RELEASE SAVEPOINT ${name}`);
  }

  async countFirings(tenantId: string, ruleIds: readonly string[]): Promise<void> {
    if (ruleIds.length === 0) return;
    await this.m.query(COUNT_FIRINGS, [tenantId, ruleIds]);
  }
}
