import { Injectable } from '@nestjs/common';
import { ApprovalsService } from '../approvals/approvals.service';
import { canonicalJson, sha256 } from '../approvals/intent';
import { Principal } from '../auth/principal';
import { InvalidFields, conflict, invalidField } from '../common/errors';
import { toWire } from '../common/wire';
import { DirectoryService } from '../directory/directory.service';
import { EventLogService } from '../event-log/event-log.service';
import { OutboxService } from '../outbox/outbox.service';
import { RuleAction } from '../rules/actions';
import { validatePayload } from '../rules/condition-validation';
import { FiringRule, RuleEngine } from '../rules/engine/rule-engine';
import { triggerType } from '../rules/trigger-catalog';
import { WorkflowsService } from '../workflows/workflows.service';
import {
  ActionResult,
  ApprovalRequested,
  Blocked,
  NotificationQueued,
  NotificationRequested,
  NotifyMessage,
  WorkflowCreated,
} from './dto/action-results';
import { EventDto, EventOutcome, FiredRule, RuleNotFired } from './dto/events.dto';
import { EventsRepository } from './events.repository';

/** The event log's type for a notify action's record. */
const NOTIFICATION_REQUESTED = 'notification.requested';

/** Events the runtime POSTs are depth 0: no rule raised them. */
const POSTED_DEPTH = 0;

interface Firing {
  principal: Principal;
  instanceId: string;
  customerId: string;
  event: string;
  /** The recorded event: what its rules' actions raise names it as their cause. */
  eventId: string;
  payload: Record<string, unknown>;
  outcome: EventOutcome;
}

/**
 * The runtime reports an event; the tenant's rules decide (RuleEngine) and this carries out what
 * they decided, each action through the domain it belongs to. Everything an event does (cooldown
 * claims, counters, approvals, workflows, outbox messages) happens in the request's one
 * transaction: if any action fails, nothing of the event is kept.
 */
@Injectable()
export class EventsService {
  constructor(
    private readonly repo: EventsRepository,
    private readonly rules: RuleEngine,
    private readonly directory: DirectoryService,
    private readonly approvals: ApprovalsService,
    private readonly workflows: WorkflowsService,
    private readonly outbox: OutboxService,
    private readonly log: EventLogService,
  ) {}

  async handle(principal: Principal, instanceId: string, dto: EventDto): Promise<unknown> {
    const trigger = triggerType(dto.event);
    if (!trigger)
      throw invalidField('event', 'event must be one of GET /v1/rules/trigger-types', 'enum');
    const problems = validatePayload(trigger, dto.payload);
    if (problems.length > 0) throw new InvalidFields(problems);
    if (!(await this.directory.customerExists(principal.tenantId, dto.customerId)))
      throw invalidField('customerId', 'Customer not found');
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
    // Recorded before its rules run, so what their actions raise can name it as the cause.
    const [eventId] = await this.log.record(principal.tenantId, {
      type: dto.event,
      instanceId,
      customerId: dto.customerId,
      depth: POSTED_DEPTH,
      data: dto.payload,
    });
    await this.fire({
      principal,
      instanceId,
      customerId: dto.customerId,
      event: dto.event,
      eventId,
      payload: dto.payload,
      outcome,
    });
    if (key) await this.repo.storeReceipt(principal.tenantId, instanceId, key, toWire(outcome));
    return outcome;
  }

  private async fire(f: Firing): Promise<void> {
    const { outcome } = f;
    const decided = await this.rules.fire({
      tenantId: f.principal.tenantId,
      instanceId: f.instanceId,
      customerId: f.customerId,
      event: f.event,
      payload: f.payload,
    });
    const notFired = (held: { ruleId: string; reason: string }) =>
      Object.assign(new RuleNotFired(), held);
    outcome.suppressed.push(...decided.suppressed.map(notFired));
    outcome.skipped.push(...decided.skipped.map(notFired));
    for (const rule of decided.fired) {
      const results: ActionResult[] = [];
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

  private async run(f: Firing, rule: FiringRule, action: RuleAction): Promise<ActionResult> {
    const { principal, instanceId, customerId, outcome } = f;
    const cause = { causedBy: f.eventId, depth: POSTED_DEPTH + 1 };
    switch (action.type) {
      case 'require_approval': {
        const { approval } = await this.approvals.request(
          principal,
          instanceId,
          {
            customerId,
            skillSlug: action.skill_slug,
            action: action.action,
            serializedIntent: f.payload,
            approverRole: action.approver_role,
            expiresInHours: action.expires_in_hours,
            ruleId: rule.id,
          },
          cause,
        );
        outcome.approvals.push(approval);
        if (outcome.decision === 'allow') outcome.decision = 'require_approval';
        return Object.assign(new ApprovalRequested(), {
          approvalId: approval.id,
          approvalRef: approval.approvalRef,
        });
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
          cause,
        );
        outcome.workflows.push(workflow);
        return Object.assign(new WorkflowCreated(), { workflowId: workflow.id });
      }
      case 'notify': {
        const message = Object.assign(new NotifyMessage(), {
          to: action.to,
          message: action.message,
          event: f.event,
          customerId,
          ruleId: rule.id,
          payload: f.payload,
        });
        const outboxId = await this.outbox.enqueue(principal.tenantId, 'notify', message);
        await this.log.record(principal.tenantId, {
          type: NOTIFICATION_REQUESTED,
          instanceId,
          customerId,
          ...cause,
          data: Object.assign(new NotificationRequested(), {
            to: action.to,
            message: action.message,
            ruleId: rule.id,
            eventId: f.eventId,
          }),
        });
        return Object.assign(new NotificationQueued(), { outboxId });
      }
      case 'block':
        outcome.decision = 'block';
        return Object.assign(new Blocked(), { reason: action.reason });
    }
  }
}
