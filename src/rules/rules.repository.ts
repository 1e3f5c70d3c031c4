import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager, FindOptionsWhere, IsNull } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { hydrate } from '../database/rows';
import { TenantDb } from '../database/tenant-db';
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
>;

/** Class of the advisory lock that serialises rule creation within a tenant ('RULE'). */
const RULE_COUNT_LOCK = 0x52554c45;

// jsonb columns hold arrays of plain objects, which TypeORM's partial type cannot express.
const partial = (values: Partial<RuleValues>) => values as QueryDeepPartialEntity<Rule>;

@Injectable()
export class RulesRepository {
  constructor(private readonly db: TenantDb) {}

  private get m(): EntityManager {
    return this.db.manager;
  }

  /** `visibleTo` limits the list to one customer's rules plus the tenant defaults. */
  list(
    tenantId: string,
    filter: { instanceId?: string; activeOnly?: boolean; visibleTo?: string | null },
  ): Promise<Rule[]> {
    const base: FindOptionsWhere<Rule> = { tenantId };
    if (filter.instanceId) base.instanceId = filter.instanceId;
    if (filter.activeOnly) base.isActive = true;
    const where =
      filter.visibleTo === undefined
        ? base
        : [
            { ...base, customerId: IsNull() },
            ...(filter.visibleTo ? [{ ...base, customerId: filter.visibleTo }] : []),
          ];
    return this.m.find(Rule, { where, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  find(tenantId: string, id: string): Promise<Rule | null> {
    return this.m.findOneBy(Rule, { tenantId, id });
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
    await this.m.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
      RULE_COUNT_LOCK,
      tenantId,
    ]);
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
