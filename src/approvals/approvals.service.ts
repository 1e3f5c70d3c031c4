import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Principal, customerScope } from '../auth/principal';
import {
  DomainError,
  InvalidFields,
  conflict,
  forbidden,
  invalidField,
  notFound,
} from '../common/errors';
import { DirectoryService } from '../directory/directory.service';
import { EventCause, EventLogService } from '../event-log/event-log.service';
import { OutboxService } from '../outbox/outbox.service';
import { Approval } from './approval.entity';
import {
  APPROVAL_EVENTS,
  ApprovalDecision,
  ApprovalRequestedData,
  ApprovalResolvedData,
} from './approval-events';
import { ApprovalTerms, checkApprovalTerms } from './approval-request';
import { ApprovalsRepository } from './approvals.repository';
import {
  APPROVAL_PAGE,
  ApprovalPage,
  CreateApprovalDto,
  ListApprovalsQuery,
  ReplayMessage,
  ResolveApprovalDto,
} from './dto/approvals.dto';
import { approvalRef, canonicalJson, intentHash, sha256 } from './intent';
import { Meters } from '../observability/meters/meters';

const REF_ATTEMPTS = 5;

@Injectable()
export class ApprovalsService {
  constructor(
    private readonly repo: ApprovalsRepository,
    private readonly outbox: OutboxService,
    private readonly directory: DirectoryService,
    private readonly events: EventLogService,
    private readonly meters: Meters,
  ) {}

  /**
   * Creates a pending approval, or with a known idempotency key returns the first one (created
   * false) when the request is the same, and 409 when it is not (Stripe's semantics). Only a
   * created one is recorded (approval.requested), carrying `cause` when a rule asked for it.
   */
  async request(
    p: Principal,
    instanceId: string,
    dto: CreateApprovalDto,
    cause: EventCause = {},
  ): Promise<{ approval: Approval; created: boolean }> {
    const { approverRole, expiresInHours } = this.checkTerms(dto);
    // The customer and the rule are checked by the insert's keys, the customer's first (see
    // insertUnlessTaken for when that holds), the person before it; a request naming no known rule nor person is
    // refused for the rule, as it always was: an unknown person is left out of the insert and
    // refused once the customer and the rule have passed.
    const personId = dto.approverPersonId ?? null;
    const personFound =
      personId === null || (await this.directory.findPersonInTenant(p.tenantId, personId)) !== null;
    const requestHash = sha256(
      canonicalJson({
        action: dto.action,
        approver_person_id: dto.approverPersonId ?? null,
        approver_role: approverRole,
        customer_id: dto.customerId,
        expires_in_hours: expiresInHours,
        notify_channel: dto.notifyChannel ?? null,
        rule_id: dto.ruleId ?? null,
        serialized_intent: dto.serializedIntent,
        skill_slug: dto.skillSlug,
      }),
    );
    const key = dto.idempotencyKey ?? null;
    for (let attempt = 0; attempt < REF_ATTEMPTS; attempt++) {
      const created = await this.repo.insertUnlessTaken({
        tenantId: p.tenantId,
        id: randomUUID(),
        approvalRef: approvalRef(),
        customerId: dto.customerId,
        instanceId,
        ruleId: dto.ruleId ?? null,
        skillSlug: dto.skillSlug,
        action: dto.action,
        serializedIntent: dto.serializedIntent,
        intentHash: intentHash(dto.skillSlug, dto.action, dto.serializedIntent),
        approverRole,
        approverPersonId: personFound ? personId : null,
        notifyChannel: dto.notifyChannel ?? null,
        idempotencyKey: key,
        requestHash,
        expiresInHours,
      });
      if (!personFound) throw invalidField('approverPersonId', 'Person not found');
      if (created) {
        await this.events.record(p.tenantId, {
          type: APPROVAL_EVENTS.requested,
          instanceId: created.instanceId,
          customerId: created.customerId,
          ...cause,
          data: Object.assign(new ApprovalRequestedData(), { approval: created }),
        });
        return { approval: created, created: true };
      }
      const first = key ? await this.byIdempotencyKey(p.tenantId, key) : null;
      if (first) {
        if (first.requestHash !== requestHash)
          throw conflict('idempotency_key was already used for a different request');
        return { approval: first, created: false };
      }
      // Otherwise the generated reference was taken: draw another.
    }
    throw new Error('could not allocate a unique approval reference');
  }

  /** The resolution's checks, in order (pending, not expired, PIN, role, person); a refused one changes nothing. */
  async resolve(p: Principal, dto: ResolveApprovalDto): Promise<Approval> {
    const locked = await this.repo.lockByRef(p.tenantId, dto.approvalRef.trim().toUpperCase());
    if (!locked) throw notFound('Approval');
    const { approval } = locked;
    if (approval.status !== 'pending') throw conflict(`Approval is ${approval.status}`);
    if (locked.pastExpiry) {
      await this.recordResolved(p.tenantId, [await this.repo.setStatus(approval, 'expired')]);
      throw new DomainError('gone', 'Approval has expired', true); // the expiry is kept
    }
    if (dto.pinVerified !== true) throw forbidden('PIN not verified');
    if (dto.resolverRole !== approval.approverRole)
      throw forbidden(`This approval needs a ${approval.approverRole}`);
    if (approval.approverPersonId && dto.resolverPersonId !== approval.approverPersonId) {
      throw forbidden('This approval is for another person');
    }
    const resolved = await this.repo.setStatus(
      approval,
      dto.action === 'approve' ? 'approved' : 'rejected',
      {
        status: dto.action === 'approve' ? 'approved' : 'rejected',
        resolvedBy: dto.resolvedBy ?? null,
        resolverRole: dto.resolverRole,
        resolverPersonId: dto.resolverPersonId ?? null,
        resolutionChannel: dto.resolutionChannel ?? null,
      },
    );
    if (dto.action !== 'approve') {
      await this.recordResolved(p.tenantId, [resolved]);
      return resolved;
    }
    const replay = Object.assign(new ReplayMessage(), {
      approvalId: approval.id,
      approvalRef: approval.approvalRef,
      customerId: approval.customerId,
      skillSlug: approval.skillSlug,
      action: approval.action,
      serializedIntent: approval.serializedIntent,
      intentHash: approval.intentHash,
    });
    await this.outbox.enqueue(p.tenantId, 'approval.replay', replay, approval.id);
    Object.assign(resolved, { replayStatus: 'pending', replayAttempts: 0 });
    await this.recordResolved(p.tenantId, [resolved]);
    return resolved;
  }

  /**
   * Expires up to `limit` of the tenant's pending approvals past expires_at, each with its
   * approval.resolved event; rows another transaction holds are left to it (SKIP LOCKED), so
   * any number of passes at once expire each approval once. Says how many it expired.
   */
  async expireDue(tenantId: string, limit: number): Promise<number> {
    const expired = await this.repo.expireDue(tenantId, limit);
    this.meters.timerFired(
      'approval_expiry',
      expired.map((a) => a.expiresAt),
    );
    await this.recordResolved(tenantId, expired);
    return expired.length;
  }

  /** Pending approvals have no replay yet (it is written when one is approved): none to attach. */
  async pending(p: Principal, customerId: string, limit: number): Promise<Approval[]> {
    await this.directory.getCustomer(p.tenantId, customerId);
    return this.repo.pending(p.tenantId, customerId, limit);
  }

  async list(p: Principal, query: ListApprovalsQuery): Promise<ApprovalPage> {
    const limit = query.limit ?? APPROVAL_PAGE.defaultLimit;
    const offset = query.offset ?? APPROVAL_PAGE.defaultOffset;
    const [approvals, total] = await this.repo.page(
      p.tenantId,
      { customerId: customerScope(p, query.customerId), status: query.status },
      limit,
      offset,
    );
    await this.withReplays(p.tenantId, approvals);
    return Object.assign(new ApprovalPage(), { approvals, total, limit, offset });
  }

  /** approval.resolved for each, its decision the status it reached. */
  private async recordResolved(tenantId: string, approvals: Approval[]): Promise<void> {
    await this.events.record(
      tenantId,
      ...approvals.map((approval) => ({
        type: APPROVAL_EVENTS.resolved,
        instanceId: approval.instanceId,
        customerId: approval.customerId,
        data: Object.assign(new ApprovalResolvedData(), {
          approval,
          decision: approval.status as ApprovalDecision,
        }),
      })),
    );
  }

  private async byIdempotencyKey(tenantId: string, key: string): Promise<Approval | null> {
    const first = await this.repo.byIdempotencyKey(tenantId, key);
    if (first) await this.withReplays(tenantId, [first]);
    return first;
  }

  /** Attaches the delivery state of each approval's replay, which the outbox keeps. */
  private async withReplays(tenantId: string, approvals: Approval[]): Promise<void> {
    const states = await this.outbox.replayStates(
      tenantId,
      approvals.map((a) => a.id),
    );
    for (const approval of approvals) {
      const state = states.get(approval.id);
      if (state)
        Object.assign(approval, { replayStatus: state.status, replayAttempts: state.attempts });
    }
  }

  /** The skill, action and defaults, as a rule's require_approval action has them checked. */
  private checkTerms(dto: CreateApprovalDto): ApprovalTerms {
    const checked = checkApprovalTerms(dto, 'route');
    if (!checked.terms) throw new InvalidFields(checked.problems);
    return checked.terms;
  }
}
