import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager, IsNull, Not } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { RawJson } from '../common/raw-json';
import { hydrate } from '../database/rows';
import { TenantDb } from '../database/tenant-db';
import { takeTurn } from '../database/turns';
import { Rule } from './rule.entity';

export type RuleValues = Pick<
  Rule,
  | 'customerId'
  | 'instanceId'
  | 'name'
  | 'description'
  | 'triggerEvent'
  | 'conditions'
  | 'actions'
  | 'priority'
  | 'cooldownSeconds'
  | 'isActive'
  | 'ruleKey'
  | 'allowCustomerOverride'
>;

/** Class of the advisory lock that serialises rule creation within a tenant ('RULE'). */
const RULE_COUNT_LOCK = 0x52554c45;

/** The list's columns, conditions and actions as text: sent as read, never parsed (RawJson). */
const LIST_COLUMNS = `tenant_id, id, customer_id, instance_id, name, description, trigger_event,
  conditions::text AS conditions, actions::text AS actions, priority, cooldown_seconds, is_active,
  rule_key, allow_customer_override, trigger_count, last_triggered_at, created_at, updated_at`;

/**
 * What a rule can weigh as JSON, from its stored text: documents as they are, and the text
 * fields as JSON spells their worst characters (six bytes, \u0001), plus the fixed fields.
 */
const RULE_BYTES = `octet_length(conditions::text) + octet_length(actions::text)
  + 6 * (octet_length(name) + coalesce(octet_length(description), 0)
         + coalesce(octet_length(rule_key), 0)) + 400`;

/** Lists heavier than this wait for room in the process's response memory before being read. */
const LARGE_LIST_BYTES = 1024 * 1024;

// jsonb columns hold arrays of plain objects, which TypeORM's partial type cannot express.
const partial = (values: Partial<RuleValues>) => values as QueryDeepPartialEntity<Rule>;

@Injectable()
export class RulesRepository {
  constructor(private readonly db: TenantDb) {}

  private get m(): EntityManager {
    return this.db.manager;
  }

  /**
   * `visibleTo` limits the list to one customer's rules plus the tenant defaults. A tenant's
   * whole rule set can be some 30 MiB, and the list has no pages: it is read with its documents
   * as text, and one that is large first waits for room in the process's response memory.
   */
  async list(
    tenantId: string,
    filter: { instanceId?: string; activeOnly?: boolean; visibleTo?: string | null },
  ): Promise<Rule[]> {
    const params: unknown[] = [tenantId];
    let where = 'tenant_id = $1';
    if (filter.instanceId) where += ` AND instance_id = $${params.push(filter.instanceId)}`;
    if (filter.activeOnly) where += ' AND is_active';
    if (filter.visibleTo === null) where += ' AND customer_id IS NULL';
    else if (filter.visibleTo !== undefined) {
      where += ` AND (customer_id IS NULL OR customer_id = $${params.push(filter.visibleTo)})`;
    }
    const [{ bytes }] = await this.m.query<{ bytes: string }[]>(
      `SELECT coalesce(sum(${RULE_BYTES}), 0)::bigint AS bytes FROM rules WHERE ${where}`,
      params,
    );
    if (Number(bytes) > LARGE_LIST_BYTES) await this.db.holdForResponse(Number(bytes));
    const rows = await this.m.query<Record<string, unknown>[]>(
      `SELECT ${LIST_COLUMNS} FROM rules WHERE ${where} ORDER BY created_at DESC, id DESC`,
      params,
    );
    return rows.map((row) => {
      const rule = hydrate(this.m, Rule, row);
      rule.conditions = new RawJson(row.conditions as string) as never;
      rule.actions = new RawJson(row.actions as string) as never;
      return rule;
    });
  }

  find(tenantId: string, id: string): Promise<Rule | null> {
    return this.m.findOneBy(Rule, { tenantId, id });
  }

  /**
   * The tenant default with this rule_key that refuses customer overrides, if any (other than
   * `exceptId`, the rule being written). Inactive defaults count: a guard switched off for now
   * still says what its customers may not replace.
   */
  guardOf(tenantId: string, ruleKey: string, exceptId?: string): Promise<Rule | null> {
    return this.m.findOne(Rule, {
      select: { id: true, name: true },
      where: {
        tenantId,
        ruleKey,
        customerId: IsNull(),
        allowCustomerOverride: false,
        ...(exceptId ? { id: Not(exceptId) } : {}),
      },
    });
  }

  lock(tenantId: string, id: string): Promise<Rule | null> {
    return this.m.findOne(Rule, { where: { tenantId, id }, lock: { mode: 'pessimistic_write' } });
  }

  /**
   * The tenant's number of rules, counted under a transaction-scoped lock that every create of
   * the tenant takes first, so two creates cannot both see room for one more. The count is a
   * statement of its own, after the lock: a statement's snapshot is taken when it starts, so one
   * that waited for the lock would not see the rule its predecessor committed.
   */
  async countForCreate(tenantId: string): Promise<number> {
    await takeTurn(this.m, RULE_COUNT_LOCK, tenantId);
    const [row] = await this.m.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM rules WHERE tenant_id = $1',
      [tenantId],
    );
    return row.n;
  }

  async insert(tenantId: string, values: RuleValues): Promise<Rule> {
    const rule = Object.assign(new Rule(), {
      id: randomUUID(),
      tenantId,
      triggerCount: 0,
      lastTriggeredAt: null,
      ...values,
    });
    await this.m.insert(Rule, partial(rule));
    return rule;
  }

  async update(rule: Rule, values: Partial<RuleValues>): Promise<Rule> {
    const result = await this.m
      .createQueryBuilder()
      .update(Rule)
      .set(partial(values))
      .where('tenant_id = :tenantId AND id = :id', { tenantId: rule.tenantId, id: rule.id })
      .returning('*')
      .execute();
    return hydrate(this.m, Rule, (result.raw as Record<string, unknown>[])[0]);
  }

  async delete(rule: Rule): Promise<void> {
    await this.m.delete(Rule, { tenantId: rule.tenantId, id: rule.id });
  }
}
