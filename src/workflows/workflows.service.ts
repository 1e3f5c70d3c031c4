import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Principal, assertCustomerAccess, customerScope } from '../auth/principal';
import { DomainError, RequestValidationError, notFound } from '../common/errors';
import { DirectoryService } from '../directory/directory.service';
import {
  AdvanceWorkflowDto,
  CreateWorkflowDto,
  ListWorkflowsInternalQuery,
  SuspendWorkflowDto,
  WorkflowActionResult,
  WorkflowPage,
} from './dto/workflows.dto';
import { Json, mergePatch } from './merge-patch';
import { Operation, WorkflowStatus, refusal } from './state-machine';
import { Workflow } from './workflow.entity';
import { NOW, WorkflowChange, WorkflowsRepository } from './workflows.repository';

/**
 * Who is calling: the agent runtime (its instance, which bounds what it sees) or the dashboard
 * (the whole tenant, customer-scoped principals confined to their customer).
 */
export interface WorkflowCaller {
  principal: Principal;
  instanceId?: string;
}

/** undefined = not sent (keep), null = clear, else the instant. */
const date = (value: string | null | undefined): Date | null | undefined =>
  value === undefined ? undefined : value === null ? null : new Date(value);
const actorOf = ({ principal, instanceId }: WorkflowCaller) =>
  instanceId ? `instance:${instanceId}` : `${principal.kind}:${principal.subject}`;

@Injectable()
export class WorkflowsService {
  constructor(
    private readonly repo: WorkflowsRepository,
    private readonly directory: DirectoryService,
  ) {}

  async list(caller: WorkflowCaller, query: ListWorkflowsInternalQuery): Promise<WorkflowPage> {
    const page = query.page ?? 1;
    const perPage = query.perPage ?? 20;
    const [workflows, total] = await this.repo.page(
      caller.principal.tenantId,
      {
        ...query,
        instanceId: caller.instanceId,
        customerId: customerScope(caller.principal, query.customerId),
      },
      page,
      perPage,
    );
    return Object.assign(new WorkflowPage(), { page, perPage, total, workflows });
  }

  listSuspended(caller: WorkflowCaller): Promise<Workflow[]> {
    return this.repo.suspended(caller.principal.tenantId, caller.principal.customerId);
  }

  async get(caller: WorkflowCaller, id: string): Promise<Workflow> {
    const workflow = await this.repo.find(caller.principal.tenantId, id, caller.instanceId);
    if (!workflow) throw notFound('Workflow');
    assertCustomerAccess(caller.principal, workflow.customerId);
    return workflow;
  }

  async create(
    caller: WorkflowCaller & { instanceId: string },
    dto: CreateWorkflowDto,
  ): Promise<Workflow> {
    const { tenantId } = caller.principal;
    if (dto.instanceId !== undefined && dto.instanceId.toLowerCase() !== caller.instanceId) {
      throw RequestValidationError.at(
        ['body', 'instance_id'],
        'must equal the instance in the path',
      );
    }
    if (!(await this.directory.customerExists(tenantId, dto.customerId))) {
      throw RequestValidationError.at(['body', 'customer_id'], 'Customer not found');
    }
    const stage = dto.stage ?? null;
    return this.repo.insert(
      {
        tenantId,
        id: randomUUID(),
        instanceId: caller.instanceId,
        customerId: dto.customerId,
        workflowType: dto.workflowType,
        status: 'active',
        stage,
        title: dto.title ?? null,
        reference: dto.reference ?? null,
        assignedTo: dto.assignedTo ?? null,
        approverId: null,
        escalationLevel: 0,
        workflowState: dto.workflowState ?? {},
        expiresAt: date(dto.expiresAt) ?? null,
        nextActionAt: date(dto.nextActionAt) ?? null,
        completedAt: null,
        suspendedStep: null,
        suspendedPayload: null,
        suspendedAt: null,
      },
      {
        action: 'created',
        actionDetail: null,
        actor: actorOf(caller),
        fromStatus: null,
        toStatus: 'active',
        fromStage: null,
        toStage: stage,
      },
    );
  }

  async advance(caller: WorkflowCaller, id: string, dto: AdvanceWorkflowDto): Promise<Workflow> {
    const workflow = await this.open(caller, id, 'advance', dto.status);
    const status = dto.status ?? workflow.status;
    const stage = dto.stage === undefined ? workflow.stage : dto.stage;
    const change: WorkflowChange = {
      status,
      stage,
      assigned_to: dto.assignedTo,
      approver_id: dto.approverId,
      escalation_level: dto.escalationLevel,
      expires_at: date(dto.expiresAt),
      next_action_at: date(dto.nextActionAt),
      workflow_state:
        dto.workflowState &&
        (mergePatch(workflow.workflowState as Json, dto.workflowState as Json) as object),
      completed_at: status === 'completed' ? NOW : undefined,
    };
    return this.repo.change(workflow, change, {
      action: dto.action,
      actionDetail: dto.actionDetail ?? null,
      actor: dto.actor ?? actorOf(caller),
      fromStatus: workflow.status,
      toStatus: status,
      fromStage: workflow.stage,
      toStage: stage,
    });
  }

  async suspend(
    caller: WorkflowCaller,
    id: string,
    dto: SuspendWorkflowDto,
  ): Promise<WorkflowActionResult> {
    const workflow = await this.open(caller, id, 'suspend');
    const payload = dto.payload ?? null;
    const done = await this.transition(
      caller,
      workflow,
      'suspended',
      'suspended',
      { step: dto.step, payload },
      {
        suspended_step: dto.step,
        suspended_payload: payload,
        suspended_at: NOW,
      },
    );
    return result(done, `Workflow suspended at step ${dto.step}`);
  }

  async resume(
    caller: WorkflowCaller,
    id: string,
    resumeData?: Record<string, unknown>,
  ): Promise<WorkflowActionResult> {
    const workflow = await this.open(caller, id, 'resume');
    const detail = { resumed_from_step: workflow.suspendedStep, resume_data: resumeData ?? null };
    const done = await this.transition(caller, workflow, 'active', 'resumed', detail, {
      workflow_state:
        resumeData && (mergePatch(workflow.workflowState as Json, resumeData as Json) as object),
      ...CLEAR_SUSPENSION,
    });
    return result(done, 'Workflow resumed');
  }

  async abort(caller: WorkflowCaller, id: string): Promise<WorkflowActionResult> {
    const workflow = await this.open(caller, id, 'abort');
    const done = await this.transition(
      caller,
      workflow,
      'cancelled',
      'aborted',
      null,
      CLEAR_SUSPENSION,
    );
    return result(done, 'Workflow aborted');
  }

  private transition(
    caller: WorkflowCaller,
    workflow: Workflow,
    status: WorkflowStatus,
    action: string,
    detail: unknown,
    change: WorkflowChange,
  ): Promise<Workflow> {
    return this.repo.change(
      workflow,
      { ...change, status },
      {
        action,
        actionDetail: detail,
        actor: actorOf(caller),
        fromStatus: workflow.status,
        toStatus: status,
        fromStage: workflow.stage,
        toStage: workflow.stage,
      },
    );
  }

  /** The workflow, row-locked, in the caller's reach, and open to `operation` (else 409). */
  private async open(
    caller: WorkflowCaller,
    id: string,
    operation: Operation,
    target?: WorkflowStatus,
  ): Promise<Workflow> {
    const workflow = await this.repo.lock(caller.principal.tenantId, id, caller.instanceId);
    if (!workflow) throw notFound('Workflow');
    assertCustomerAccess(caller.principal, workflow.customerId);
    const reason = refusal(operation, workflow.status, target);
    if (reason) throw new DomainError('conflict', reason);
    return workflow;
  }
}

const CLEAR_SUSPENSION: WorkflowChange = {
  suspended_step: null,
  suspended_payload: null,
  suspended_at: null,
};

const result = (w: Workflow, message: string) =>
  Object.assign(new WorkflowActionResult(), { id: w.id, message, status: w.status });
