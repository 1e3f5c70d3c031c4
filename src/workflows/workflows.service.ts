import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Principal, assertCustomerAccess, customerScope } from '../auth/principal';
import { DomainError, RequestValidationError, conflict, notFound } from '../common/errors';
import { JSON_CAPS, assertJsonBytes } from '../common/json-limits';
import { DirectoryService } from '../directory/directory.service';
import {
  AdvanceWorkflowDto,
  CreateWorkflowDto,
  ListSuspendedQuery,
  ListWorkflowsInternalQuery,
  SuspendWorkflowDto,
  WorkflowActionResult,
  WorkflowPage,
} from './dto/workflows.dto';
import { Json, mergePatch } from './merge-patch';
import { Operation, WorkflowStatus, refusal } from './state-machine';
import { Workflow } from './workflow.entity';
import {
  HistoryRoom,
  NOW,
  NewHistoryEntry,
  PAGE_BUDGET_BYTES,
  PageTooLarge,
  WorkflowChange,
  entryBytes,
} from './workflow-sql';
import { WorkflowsRepository } from './workflows.repository';

/**
 * A workflow's history is bounded: it is read whole with every workflow. The last entry and a
 * few KiB are kept for the change that closes it, so a full history never strands it open.
 */
export const HISTORY_CAP = { entries: 1000, bytes: 1024 * 1024 };
const CLOSING_ROOM = { entries: 1, bytes: 4 * 1024 };
const CLOSING: ReadonlySet<WorkflowStatus> = new Set([
  'completed',
  'expired',
  'cancelled',
  'failed',
]);

const MiB = 1024 * 1024;
/** 422 for a list whose documents are more than a response may carry, saying what would fit. */
const tooLarge = (loc: string, asked: number, page: PageTooLarge) =>
  RequestValidationError.at(
    ['query', loc],
    `These ${asked} workflows hold ${(page.bytes / MiB).toFixed(1)} MiB of JSON, over the ` +
      `${PAGE_BUDGET_BYTES / MiB} MiB one response may carry: ask for at most ` +
      `${Math.max(1, Math.floor((asked * PAGE_BUDGET_BYTES) / page.bytes))}`,
    'page_too_large',
  );

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
    const read = await this.repo.page(
      caller.principal.tenantId,
      {
        ...query,
        instanceId: caller.instanceId,
        customerId: customerScope(caller.principal, query.customerId),
      },
      page,
      perPage,
    );
    if (read instanceof PageTooLarge) throw tooLarge('per_page', perPage, read);
    const [workflows, total] = read;
    return Object.assign(new WorkflowPage(), { page, perPage, total, workflows });
  }

  async listSuspended(caller: WorkflowCaller, query: ListSuspendedQuery): Promise<Workflow[]> {
    const limit = query.limit ?? 100;
    const { tenantId, customerId } = caller.principal;
    const read = await this.repo.suspended(tenantId, customerId, limit);
    if (read instanceof PageTooLarge) throw tooLarge('limit', limit, read);
    return read;
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
    const { workflow, history } = await this.open(caller, id, 'advance', dto.status);
    const status = dto.status ?? workflow.status;
    const stage = dto.stage === undefined ? workflow.stage : dto.stage;
    const state = dto.workflowState && mergedState(workflow, dto.workflowState, 'workflow_state');
    const change: WorkflowChange = {
      status,
      stage,
      assigned_to: dto.assignedTo,
      approver_id: dto.approverId,
      escalation_level: dto.escalationLevel,
      expires_at: date(dto.expiresAt),
      next_action_at: date(dto.nextActionAt),
      workflow_state: state,
      completed_at: status === 'completed' ? NOW : undefined,
    };
    return this.append(workflow, history, change, {
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
    const locked = await this.open(caller, id, 'suspend');
    const payload = dto.payload ?? null;
    const done = await this.transition(
      caller,
      locked,
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
    const locked = await this.open(caller, id, 'resume');
    const { workflow } = locked;
    const detail = { resumed_from_step: workflow.suspendedStep, resume_data: resumeData ?? null };
    const done = await this.transition(caller, locked, 'active', 'resumed', detail, {
      workflow_state: resumeData && mergedState(workflow, resumeData, 'resume_data'),
      ...CLEAR_SUSPENSION,
    });
    return result(done, 'Workflow resumed');
  }

  async abort(caller: WorkflowCaller, id: string): Promise<WorkflowActionResult> {
    const locked = await this.open(caller, id, 'abort');
    const done = await this.transition(
      caller,
      locked,
      'cancelled',
      'aborted',
      null,
      CLEAR_SUSPENSION,
    );
    return result(done, 'Workflow aborted');
  }

  private transition(
    caller: WorkflowCaller,
    { workflow, history }: Locked,
    status: WorkflowStatus,
    action: string,
    detail: unknown,
    change: WorkflowChange,
  ): Promise<Workflow> {
    return this.append(
      workflow,
      history,
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
  ): Promise<Locked> {
    const locked = await this.repo.lock(caller.principal.tenantId, id, caller.instanceId);
    if (!locked) throw notFound('Workflow');
    const { workflow } = locked;
    assertCustomerAccess(caller.principal, workflow.customerId);
    const reason = refusal(operation, workflow.status, target);
    if (reason) throw new DomainError('conflict', reason);
    return locked;
  }

  /** The change and its history entry, if the history has room for it (else 409). */
  private append(
    workflow: Workflow,
    history: HistoryRoom,
    change: WorkflowChange,
    entry: NewHistoryEntry,
  ): Promise<Workflow> {
    const closing = change.status !== undefined && CLOSING.has(change.status);
    const room = closing ? { entries: 0, bytes: 0 } : CLOSING_ROOM;
    if (
      history.entries + 1 > HISTORY_CAP.entries - room.entries ||
      history.bytes + entryBytes(entry) > HISTORY_CAP.bytes - room.bytes
    ) {
      throw conflict(
        `History full: a workflow keeps at most ${HISTORY_CAP.entries} entries ` +
          `(${HISTORY_CAP.bytes / MiB} MiB), the last kept for closing it; close this one and open a new one`,
      );
    }
    return this.repo.change(workflow, change, entry);
  }
}

type Locked = { workflow: Workflow; history: HistoryRoom };

/** The state after a merge, refused (422 at `field`) when the result is over its cap. */
function mergedState(workflow: Workflow, patch: Record<string, unknown>, field: string): object {
  const merged = mergePatch(workflow.workflowState.parse<Json>(), patch as Json) as object;
  assertJsonBytes(merged, JSON_CAPS.workflowState, ['body', field]);
  return merged;
}

const CLEAR_SUSPENSION: WorkflowChange = {
  suspended_step: null,
  suspended_payload: null,
  suspended_at: null,
};

const result = (w: Workflow, message: string) =>
  Object.assign(new WorkflowActionResult(), { id: w.id, message, status: w.status });
