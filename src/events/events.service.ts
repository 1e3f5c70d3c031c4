import { Injectable } from '@nestjs/common';
import { ApprovalsService } from '../approvals/approvals.service';
import { canonicalJson, sha256 } from '../approvals/intent';
import { Principal } from '../auth/principal';
import { RequestValidationError, conflict } from '../common/errors';
import { toWire } from '../common/wire';
import { OutboxRepository } from '../outbox/outbox.repository';
import { RuleAction, eventEffects, eventEffectsError } from '../rules/actions';
import { validatePayload } from '../rules/conditions';
import { triggerType } from '../rules/trigger-catalog';
import { WorkflowsService } from '../workflows/workflows.service';
import { EventDto, EventOutcome, FiredRule, RuleNotFired } from './dto/events.dto';
import { EventsRepository } from './events.repository';
import { CompiledRule, RuleCache } from './rule-cache';

interface Firing {
  principal: Principal;
  instanceId: string;
  rulesVersion: number;
  customerId: string;
  event: string;
  payload: Record<string, unknown>;
  outcome: EventOutcome;
}

/**
 * The runtime reports an event; the tenant's rules decide. Everything an event does (cooldown
 * claims, counters, approvals, workflows, outbox messages) happens in the request's one
 * transaction: if any action fails, nothing of the event is kept.
 */
@Injectable()
export class EventsService {
  constructor(
    private readonly repo: EventsRepository,
    private readonly cache: RuleCache,
    private readonly approvals: ApprovalsService,
    private readonly workflows: WorkflowsService,
    private readonly outbox: OutboxRepository,
  ) {}

  async handle(principal: Principal, instanceId: string, dto: EventDto): Promise<unknown> {
    const trigger = triggerType(dto.event);
    if (!trigger)
      throw RequestValidationError.at(
        ['body', 'event'],
        'event must be one of GET /v1/rules/trigger-types',
        'enum',
      );
    const errors = validatePayload(trigger, dto.payload);
    if (errors.length > 0) throw new RequestValidationError(errors);
    const { customerFound, rulesVersion } = await this.repo.eventContext(
      principal.tenantId,
      dto.customerId,
    );
    if (!customerFound)
      throw RequestValidationError.at(['body', 'customer_id'], 'Customer not found');
    const key = dto.idempotencyKey ?? null;
    if (key) {
      const requestHash = sha256(
        canonicalJson({ customer_id: dto.customerId, event: dto.event, payload: dto.payload }),
      );
      const first = await this.repo.claimReceipt(principal.tenantId, instanceId, key, requestHash);
      if (first) {
        if (first.requestHash !== requestHash)
          throw conflict('idempotency_key was already used for a different event');
        return first.response; // the first answer, as it was sent
      }
    }
    const outcome = Object.assign(new EventOutcome(), {
      event: dto.event,
      decision: 'allow',
      fired: [],
      suppressed: [],
      skipped: [],
      approvals: [],
      workflows: [],
    });
    await this.fire({
      principal,
      instanceId,
      rulesVersion,
      customerId: dto.customerId,
      event: dto.event,
      payload: dto.payload,
      outcome,
    });
    if (key) await this.repo.storeReceipt(principal.tenantId, instanceId, key, toWire(outcome));
    return outcome;
  }

  private async fire(f: Firing): Promise<void> {
    const { principal, instanceId, customerId, payload, outcome } = f;
    // Rules of other instances or customers are not this event's business: not even listed.
    const effective = (
      await this.cache.rulesFor(principal.tenantId, f.rulesVersion, f.event)
    ).filter(
      (r) =>
        (r.instanceId === null || r.instanceId === instanceId) &&
        (r.customerId === null || r.customerId === customerId),
    );
    const overridden = new Set(
      effective.filter((r) => r.customerId !== null && r.ruleKey).map((r) => r.ruleKey),
    );
    const held = (rule: CompiledRule, reason: string) =>
      Object.assign(new RuleNotFired(), { ruleId: rule.id, reason });
    const candidates: CompiledRule[] = [];
    for (const rule of effective) {
      if (rule.customerId === null && rule.ruleKey !== null && overridden.has(rule.ruleKey)) {
        outcome.suppressed.push(held(rule, 'overridden'));
      } else if (!rule.matches(payload)) {
        outcome.skipped.push(held(rule, 'conditions_not_met'));
      } else {
        candidates.push(rule);
      }
    }
    const claimed = await this.repo.claimCooldowns(principal.tenantId, customerId, candidates);
    const firing = candidates.filter((rule) => claimed.has(rule.id));
    // Counted on the rules that won their cooldown, so a held-back rule costs nothing; the
    // refusal rolls the claims back with the rest of the request.
    const tooMuch = eventEffectsError(eventEffects(firing));
    if (tooMuch) throw new RequestValidationError([tooMuch]);
    await this.repo.countFirings(
      principal.tenantId,
      firing.map((rule) => rule.id),
    );
    for (const rule of candidates) {
      if (!claimed.has(rule.id)) {
        outcome.suppressed.push(held(rule, 'cooldown'));
        continue;
      }
      const results: unknown[] = [];
      for (const action of rule.actions) results.push(await this.run(f, rule, action));
      outcome.fired.push(
        Object.assign(new FiredRule(), {
          ruleId: rule.id,
          ruleName: rule.name,
          actions: rule.actions,
          results,
        }),
      );
    }
  }

  private async run(f: Firing, rule: CompiledRule, action: RuleAction): Promise<unknown> {
    const { principal, instanceId, customerId, outcome } = f;
    switch (action.type) {
      case 'require_approval': {
        const { approval } = await this.approvals.request(principal, instanceId, {
          customerId,
          skillSlug: action.skill_slug,
          action: action.action,
          serializedIntent: f.payload,
          approverRole: action.approver_role,
          expiresInHours: action.expires_in_hours,
          ruleId: rule.id,
        });
        outcome.approvals.push(approval);
        if (outcome.decision === 'allow') outcome.decision = 'require_approval';
        return { type: action.type, approval_id: approval.id, approval_ref: approval.approvalRef };
      }
      case 'create_workflow': {
        const workflow = await this.workflows.create(
          { principal, instanceId },
          {
            customerId,
            workflowType: action.workflow_type,
            stage: action.stage,
            title: action.title,
          },
        );
        outcome.workflows.push(workflow);
        return { type: action.type, workflow_id: workflow.id };
      }
      case 'notify': {
        const outboxId = await this.outbox.add(principal.tenantId, 'notify', {
          to: action.to,
          message: action.message,
          event: f.event,
          customer_id: customerId,
          rule_id: rule.id,
          payload: f.payload,
        });
        return { type: action.type, outbox_id: outboxId };
      }
      case 'block':
        outcome.decision = 'block';
        return { type: action.type, reason: action.reason };
    }
  }
}
