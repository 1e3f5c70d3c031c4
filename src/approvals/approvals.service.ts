import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Principal, customerScope } from '../auth/principal';
import {
  DomainError,
  RequestValidationError,
  conflict,
  forbidden,
  notFound,
} from '../common/errors';
import { DirectoryService } from '../directory/directory.service';
import { OutboxRepository } from '../outbox/outbox.repository';
import { REPLAYABLE_SERVICES, isReplayable } from '../rules/replayable-services';
import { RulesRepository } from '../rules/rules.repository';
import { Approval } from './approval.entity';
import { ApprovalsRepository } from './approvals.repository';
import {
  ApprovalPage,
  CreateApprovalDto,
  ListApprovalsQuery,
  ResolveApprovalDto,
} from './dto/approvals.dto';
import { approvalRef, canonicalJson, intentHash, sha256 } from './intent';

const REF_ATTEMPTS = 5;

@Injectable()
export class ApprovalsService {
  constructor(
    private readonly repo: ApprovalsRepository,
    private readonly outbox: OutboxRepository,
    private readonly directory: DirectoryService,
    private readonly rules: RulesRepository,
  ) {}

  /**
   * Creates a pending approval, or with a known idempotency key returns the first one (created
   * false) when the request is the same, and 409 when it is not (Stripe's semantics).
   */
  async request(
    p: Principal,
    instanceId: string,
    dto: CreateApprovalDto,
  ): Promise<{ approval: Approval; created: boolean }> {
    await this.checkReferences(p.tenantId, dto);
    const approverRole = dto.approverRole ?? 'customer';
    const expiresInHours = dto.expiresInHours ?? 24;
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
        approverPersonId: dto.approverPersonId ?? null,
        notifyChannel: dto.notifyChannel ?? null,
        idempotencyKey: key,
        requestHash,
        expiresInHours,
      });
      if (created) return { approval: created, created: true };
      const first = key ? await this.repo.byIdempotencyKey(p.tenantId, key) : null;
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
    const approval = await this.repo.lockByRef(p.tenantId, dto.approvalRef.trim().toUpperCase());
    if (!approval) throw notFound('Approval');
    if (approval.status !== 'pending') throw conflict(`Approval is ${approval.status}`);
    if (approval.expiresAt.getTime() <= Date.now()) {
      await this.repo.setStatus(approval, 'expired');
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
    if (dto.action !== 'approve') return resolved;
    await this.outbox.add(
      p.tenantId,
      'approval.replay',
      {
        approval_id: approval.id,
        approval_ref: approval.approvalRef,
        customer_id: approval.customerId,
        skill_slug: approval.skillSlug,
        action: approval.action,
        serialized_intent: approval.serializedIntent,
        intent_hash: approval.intentHash,
      },
      approval.id,
    );
    return Object.assign(resolved, { replayStatus: 'pending', replayAttempts: 0 });
  }

  async pending(p: Principal, customerId: string): Promise<Approval[]> {
    await this.directory.getCustomer(p.tenantId, customerId);
    return this.repo.pending(p.tenantId, customerId);
  }

  async list(p: Principal, query: ListApprovalsQuery): Promise<ApprovalPage> {
    const limit = query.limit ?? 50;
    const offset = query.offset ?? 0;
    const [approvals, total] = await this.repo.page(
      p.tenantId,
      { customerId: customerScope(p, query.customerId), status: query.status },
      limit,
      offset,
    );
    return Object.assign(new ApprovalPage(), { approvals, total, limit, offset });
  }

  private async checkReferences(tenantId: string, dto: CreateApprovalDto): Promise<void> {
    if (!isReplayable(dto.skillSlug, dto.action)) {
      const skill = REPLAYABLE_SERVICES.find((s) => s.skillSlug === dto.skillSlug);
      throw skill
        ? RequestValidationError.at(
            ['body', 'action'],
            `action of ${skill.skillSlug} must be one of ${skill.actions.map((a) => a.action).join(', ')}`,
            'enum',
          )
        : RequestValidationError.at(
            ['body', 'skill_slug'],
            'skill_slug must be one of GET /v1/rules/replayable-services',
            'enum',
          );
    }
    if (!(await this.directory.customerExists(tenantId, dto.customerId))) {
      throw RequestValidationError.at(['body', 'customer_id'], 'Customer not found');
    }
    if (dto.ruleId && !(await this.rules.find(tenantId, dto.ruleId))) {
      throw RequestValidationError.at(['body', 'rule_id'], 'Rule not found');
    }
    if (
      dto.approverPersonId &&
      !(await this.directory.findPersonInTenant(tenantId, dto.approverPersonId))
    ) {
      throw RequestValidationError.at(['body', 'approver_person_id'], 'Person not found');
    }
  }
}
