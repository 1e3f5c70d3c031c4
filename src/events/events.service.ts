import { Injectable } from '@nestjs/common';
import { canonicalJson, sha256 } from '../approvals/intent';
import { Principal } from '../auth/principal';
import { InvalidFields, conflict, invalidField } from '../common/errors';
import { wireJson } from '../common/wire-json';
import { EventLogService } from '../event-log/event-log.service';
import { validatePayload } from '../rules/condition-validation';
import { triggerType } from '../rules/trigger-catalog';
import { EventDto } from './dto/events.dto';
import { EventEvaluationRepository } from './event-evaluation.repository';
import { EventsRepository } from './events.repository';
import { isRaisedTrigger } from './raised-triggers';
import { RuleActions } from './rule-actions';

/** Events the runtime POSTs are depth 0: no rule raised them. */
const POSTED_DEPTH = 0;

/**
 * The runtime reports an event; its rules fire and their actions are carried out (RuleActions)
 * in the request's one transaction: if any action fails, nothing of the event is kept.
 */
@Injectable()
export class EventsService {
  constructor(
    private readonly repo: EventsRepository,
    private readonly evaluations: EventEvaluationRepository,
    private readonly actions: RuleActions,
    private readonly log: EventLogService,
  ) {}

  async handle(principal: Principal, instanceId: string, dto: EventDto): Promise<unknown> {
    const trigger = triggerType(dto.event);
    if (!trigger)
      throw invalidField('event', 'event must be one of GET /v1/rules/trigger-types', 'enum');
    const problems = validatePayload(trigger, dto.payload);
    if (problems.length > 0) throw new InvalidFields(problems);
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
    // Recorded before its rules run, so what their actions raise can name it as the cause.
    const event = this.log.recording(principal.tenantId, {
      type: dto.event,
      instanceId,
      customerId: dto.customerId,
      depth: POSTED_DEPTH,
      data: dto.payload,
    });
    const opened = await this.repo.open(principal.tenantId, dto.customerId, event);
    if (!opened.eventId) throw invalidField('customerId', 'Customer not found');
    const eventId = opened.eventId;
    // A type HydraCore raises too: its rules run here, so the evaluator must pass it over.
    if (isRaisedTrigger(dto.event))
      await this.evaluations.markEvaluated(principal.tenantId, eventId);
    const outcome = await this.actions.fire(
      {
        principal,
        instanceId,
        customerId: dto.customerId,
        event: dto.event,
        eventId,
        depth: POSTED_DEPTH,
        payload: dto.payload,
      },
      { version: opened.rulesVersion },
    );
    if (key) await this.repo.storeReceipt(principal.tenantId, instanceId, key, wireJson(outcome));
    return outcome;
  }
}
