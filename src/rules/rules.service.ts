import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { Principal, isTenantAdmin } from '../auth/principal';
import {
  FieldProblem,
  InvalidFields,
  conflict,
  forbidden,
  invalidField,
  notFound,
} from '../common/errors';
import { DirectoryService } from '../directory/directory.service';
import { RuleAction, validateActions } from './actions';
import { validateConditions } from './condition-validation';
import { Condition, allPassed, compileConditions } from './conditions';
import {
  CreateRuleDto,
  ListRulesQuery,
  RULE_DEFAULTS,
  TestRuleResult,
  UpdateRuleDto,
} from './dto/rules.dto';
import { Firing, FiringsQuery, RuleEvaluation } from './firing-log/firings.dto';
import { FiringLogService } from './firing-log/firing-log.service';
import { RULE_LIMITS, checkRuleSize } from './limits';
import { RULE_FIELDS } from './rule-audit';
import { Rule } from './rule.entity';
import { RuleValues, RulesRepository } from './rules.repository';
import { triggerType } from './trigger-catalog';

/**
 * Reads inherit: anyone in the tenant sees tenant defaults plus its own customer's rules (tenant
 * admins see all). Writes are strict: role admin, and a customer admin touches only rules of its
 * own customer, never a tenant default and never moving a rule elsewhere.
 *
 * A tenant default with allow_customer_override false is a guard: no customer rule may take its
 * rule_key (409), and the engine never lets one suppress it. Only a tenant admin sets the flag,
 * and only a tenant default can be false. Setting it false while customer rules of the key exist
 * is allowed: they stay, and from then on fire beside the default instead of replacing it.
 */
@Injectable()
export class RulesService {
  constructor(
    private readonly repo: RulesRepository,
    private readonly directory: DirectoryService,
    private readonly firingLog: FiringLogService,
    private readonly audit: AuditService,
  ) {}

  list(p: Principal, query: ListRulesQuery): Promise<Rule[]> {
    return this.repo.list(p.tenantId, {
      instanceId: query.instanceId,
      activeOnly: query.activeOnly,
      visibleTo: isTenantAdmin(p) ? undefined : p.customerId,
    });
  }

  async get(p: Principal, id: string): Promise<Rule> {
    const rule = await this.repo.find(p.tenantId, id);
    if (!rule) throw notFound('Rule');
    if (!isTenantAdmin(p) && rule.customerId !== null && rule.customerId !== p.customerId) {
      throw forbidden('This rule belongs to another customer');
    }
    return rule;
  }

  /**
   * Readable as the rule is; a customer admin sees a tenant default's firings for its own
   * customer's events only, never another customer's activity.
   */
  async firings(p: Principal, id: string, query: FiringsQuery): Promise<Firing[]> {
    await this.get(p, id);
    return this.firingLog.firings(p.tenantId, id, query, p.customerId ?? undefined);
  }

  /**
   * What the tenant's rules made of an event (for the event's detail): every rule it met, the
   * ones skipped with the first condition they failed. No principal check: the caller has
   * decided the event is the principal's to see, and an evaluation shows only that event.
   */
  evaluationsOf(tenantId: string, eventId: string): Promise<RuleEvaluation[]> {
    return this.firingLog.evaluationsOf(tenantId, eventId);
  }

  async create(p: Principal, dto: CreateRuleDto): Promise<Rule> {
    const customerId = dto.customerId ?? null;
    assertWritable(p, customerId);
    assertMaySetOverride(p, dto);
    const allowCustomerOverride = dto.allowCustomerOverride ?? RULE_DEFAULTS.allowCustomerOverride;
    if (customerId !== null && !allowCustomerOverride) throw guardOnCustomerRule();
    const { conditions, actions } = this.check(
      dto.triggerEvent,
      dto.conditions ?? [],
      dto.actions,
      { conditions: true, actions: true },
    );
    await this.assertReferences(p.tenantId, customerId, dto.instanceId ?? null);
    await this.assertNotGuarded(p.tenantId, customerId, dto.ruleKey ?? null);
    // 409, not 422: the request is well formed, the tenant is full; deleting a rule makes room.
    if ((await this.repo.countForCreate(p.tenantId)) >= RULE_LIMITS.rulesPerTenant) {
      throw conflict(
        `A tenant has at most ${RULE_LIMITS.rulesPerTenant} rules: delete one before creating another`,
      );
    }
    const rule = await this.repo.insert(p.tenantId, {
      customerId,
      instanceId: dto.instanceId ?? null,
      name: dto.name,
      description: dto.description ?? null,
      triggerEvent: dto.triggerEvent,
      conditions,
      actions,
      priority: dto.priority ?? RULE_DEFAULTS.priority,
      cooldownSeconds: dto.cooldownSeconds ?? RULE_DEFAULTS.cooldownSeconds,
      isActive: dto.isActive ?? RULE_DEFAULTS.isActive,
      ruleKey: dto.ruleKey ?? null,
      allowCustomerOverride,
    });
    await this.audit.created('rule', rule, RULE_FIELDS);
    return rule;
  }

  async update(p: Principal, id: string, dto: UpdateRuleDto): Promise<Rule> {
    const rule = await this.writable(p, id);
    if (dto.customerId !== undefined) assertWritable(p, dto.customerId);
    assertMaySetOverride(p, dto);
    const customerId = dto.customerId !== undefined ? dto.customerId : rule.customerId;
    const ruleKey = dto.ruleKey !== undefined ? dto.ruleKey : rule.ruleKey;
    if (customerId !== null && !(dto.allowCustomerOverride ?? rule.allowCustomerOverride)) {
      // A guard moved to a customer would silently stop guarding: the move must say so.
      throw dto.allowCustomerOverride === false
        ? guardOnCustomerRule()
        : invalidField(
            'customerId',
            'this tenant default refuses customer overrides: send allow_customer_override true to move it to a customer',
          );
    }
    const changes: Partial<RuleValues> = {};
    for (const key of [
      'customerId',
      'instanceId',
      'name',
      'description',
      'priority',
      'cooldownSeconds',
      'isActive',
      'ruleKey',
      'allowCustomerOverride',
    ] as const) {
      if (dto[key] !== undefined) Object.assign(changes, { [key]: dto[key] });
    }
    if (
      dto.triggerEvent !== undefined ||
      dto.conditions !== undefined ||
      dto.actions !== undefined
    ) {
      const trigger = dto.triggerEvent ?? rule.triggerEvent;
      const checked = this.check(
        trigger,
        dto.conditions ?? rule.conditions,
        dto.actions ?? rule.actions,
        { conditions: dto.conditions !== undefined, actions: dto.actions !== undefined },
      );
      Object.assign(changes, {
        triggerEvent: trigger,
        conditions: checked.conditions,
        actions: checked.actions,
      });
    }
    await this.assertReferences(p.tenantId, dto.customerId ?? null, dto.instanceId ?? null);
    // Only a rule taking its customer or key now: one that held them before the guard stays.
    if (customerId !== rule.customerId || ruleKey !== rule.ruleKey) {
      await this.assertNotGuarded(p.tenantId, customerId, ruleKey, rule.id);
    }
    const updated =
      Object.keys(changes).length === 0 ? rule : await this.repo.update(rule, changes);
    await this.audit.updated('rule', rule, updated, RULE_FIELDS);
    return updated;
  }

  async delete(p: Principal, id: string): Promise<void> {
    const rule = await this.writable(p, id);
    await this.repo.delete(rule);
    await this.audit.deleted('rule', rule, RULE_FIELDS);
  }

  /** A dry run: evaluates the conditions, executes nothing, counts nothing. */
  async test(p: Principal, id: string, payload: Record<string, unknown>): Promise<TestRuleResult> {
    const rule = await this.writable(p, id);
    const trigger = triggerType(rule.triggerEvent);
    const results = trigger ? compileConditions(trigger, rule.conditions)(payload) : [];
    const met = trigger !== undefined && allPassed(results);
    return Object.assign(new TestRuleResult(), {
      ruleId: rule.id,
      ruleName: rule.name,
      allConditionsMet: met,
      conditionResults: results,
      actionsThatWouldFire: met ? rule.actions : [],
    });
  }

  private async writable(p: Principal, id: string): Promise<Rule> {
    const rule = await this.repo.lock(p.tenantId, id);
    if (!rule) throw notFound('Rule');
    assertWritable(p, rule.customerId);
    return rule;
  }

  /**
   * Trigger, conditions and actions checked together, errors reported together. When the
   * trigger changes under stored conditions that no longer fit, the error is on trigger_event.
   * The size of the two together is checked last, on what a PATCH leaves after merging.
   */
  private check(
    event: string,
    rawConditions: unknown,
    rawActions: unknown,
    sent: { conditions: boolean; actions: boolean },
  ): { conditions: Condition[]; actions: RuleAction[] } {
    const errors: FieldProblem[] = [];
    const trigger = triggerType(event);
    let conditions: Condition[] = [];
    if (!trigger) {
      errors.push({
        field: 'triggerEvent',
        msg: 'trigger_event must be one of GET /v1/rules/trigger-types',
        type: 'enum',
      });
    } else {
      const checked = validateConditions(trigger, rawConditions);
      conditions = checked.conditions;
      if (checked.errors.length > 0 && !sent.conditions) {
        errors.push({
          field: 'triggerEvent',
          msg: `the rule's conditions do not fit ${event}: send conditions for it too`,
          type: 'value_error',
        });
      } else errors.push(...checked.errors);
    }
    const checkedActions = validateActions(rawActions);
    errors.push(...checkedActions.errors);
    if (errors.length > 0) throw new InvalidFields(errors);
    const tooBig = checkRuleSize(conditions, checkedActions.actions, sent);
    if (tooBig) throw new InvalidFields([tooBig]);
    return { conditions, actions: checkedActions.actions };
  }

  /**
   * 409, not 422: the request is well formed, but the tenant's guard with this key stands in
   * its way. Not locked against a guard being set meanwhile: the engine never lets a customer
   * rule suppress a guard, so a rule that slips past this check only fires beside it.
   */
  private async assertNotGuarded(
    tenantId: string,
    customerId: string | null,
    ruleKey: string | null,
    exceptId?: string,
  ): Promise<void> {
    if (customerId === null || ruleKey === null) return;
    if (await this.repo.guardOf(tenantId, ruleKey, exceptId)) {
      throw conflict(
        `The tenant default with rule_key "${ruleKey}" does not allow customer overrides: choose another rule_key`,
      );
    }
  }

  private async assertReferences(
    tenantId: string,
    customerId: string | null,
    instanceId: string | null,
  ): Promise<void> {
    if (customerId && !(await this.directory.customerExists(tenantId, customerId))) {
      throw invalidField('customerId', 'Customer not found');
    }
    if (instanceId && !(await this.directory.findInstance(tenantId, instanceId))) {
      throw invalidField('instanceId', 'Instance not found');
    }
  }
}

/** Whether a customer may replace a tenant default is the tenant's call, never the customer's. */
function assertMaySetOverride(p: Principal, dto: { allowCustomerOverride?: boolean }): void {
  if (dto.allowCustomerOverride !== undefined && !isTenantAdmin(p)) {
    throw forbidden('Only a tenant admin may set allow_customer_override');
  }
}

const guardOnCustomerRule = () =>
  invalidField(
    'allowCustomerOverride',
    'only a tenant default (customer_id null) can refuse customer overrides',
  );

function assertWritable(p: Principal, customerId: string | null): void {
  if (p.customerId === null) return;
  if (customerId === null) throw forbidden('Tenant-default rules are for tenant admins only');
  if (customerId !== p.customerId) throw forbidden('This rule belongs to another customer');
}
