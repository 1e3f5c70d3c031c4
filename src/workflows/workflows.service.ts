import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { assertCustomerAccess, customerScope } from '../auth/principal';
import { invalidField, notFound } from '../common/errors';
import { EventCause, EventLogService } from '../event-log/event-log.service';
import {
  CreateWorkflowDto,
  LIST_DEFAULTS,
  ListSuspendedQuery,
  ListWorkflowsInternalQuery,
  WorkflowPage,
} from './dto/workflows.dto';
import { Workflow } from './workflow.entity';
import { WorkflowCaller, actorOf, date } from './workflow-caller';
import { createdEvent } from './workflow-events';
import { WorkflowListsRepository } from './workflow-lists.repository';
import { PAGE_BUDGET_BYTES, PageTooLarge } from './workflow-sql';
import { WorkflowsRepository } from './workflows.repository';

const MiB = 1024 * 1024;
/** 422 for a list whose documents are more than a response may carry, saying what would fit. */
const tooLarge = (field: 'perPage' | 'limit', asked: number, page: PageTooLarge) =>
  invalidField(
    field,
    `These ${asked} workflows hold ${(page.bytes / MiB).toFixed(1)} MiB of JSON, over the ` +
      `${PAGE_BUDGET_BYTES / MiB} MiB one response may carry: ask for at most ` +
      `${Math.max(1, Math.floor((asked * PAGE_BUDGET_BYTES) / page.bytes))}`,
    'page_too_large',
    [],
    'query',
  );

/** Workflows read and created; changes to one already there are WorkflowChangesService's. */
@Injectable()
export class WorkflowsService {
  constructor(
    private readonly repo: WorkflowsRepository,
    private readonly lists: WorkflowListsRepository,
    private readonly events: EventLogService,
  ) {}

  async list(caller: WorkflowCaller, query: ListWorkflowsInternalQuery): Promise<WorkflowPage> {
    const page = query.page ?? LIST_DEFAULTS.page;
    const perPage = query.perPage ?? LIST_DEFAULTS.perPage;
    const read = await this.lists.page(
      caller.principal.tenantId,
      {
        ...query,
        instanceId: caller.instanceId,
        customerId: customerScope(caller.principal, query.customerId),
        dueBefore: date(query.dueBefore) ?? undefined,
      },
      page,
      perPage,
    );
    if (read instanceof PageTooLarge) throw tooLarge('perPage', perPage, read);
    const [workflows, total] = read;
    return Object.assign(new WorkflowPage(), { page, perPage, total, workflows });
  }

  async listSuspended(caller: WorkflowCaller, query: ListSuspendedQuery): Promise<Workflow[]> {
    const limit = query.limit ?? LIST_DEFAULTS.suspendedLimit;
    const { tenantId, customerId } = caller.principal;
    const read = await this.lists.suspended(tenantId, customerId, limit);
    if (read instanceof PageTooLarge) throw tooLarge('limit', limit, read);
    return read;
  }

  async get(caller: WorkflowCaller, id: string): Promise<Workflow> {
    const workflow = await this.repo.find(caller.principal.tenantId, id, caller.instanceId);
    if (!workflow) throw notFound('Workflow');
    assertCustomerAccess(caller.principal, workflow.customerId);
    return workflow;
  }

  /**
   * Creates the workflow and raises `workflow.created` with it. `cause` is for a create done by a
   * rule's action: the event that fired the rule, and the created event's depth.
   */
  async create(
    caller: WorkflowCaller & { instanceId: string },
    dto: CreateWorkflowDto,
    cause?: EventCause,
  ): Promise<Workflow> {
    const { tenantId } = caller.principal;
    if (dto.instanceId !== undefined && dto.instanceId.toLowerCase() !== caller.instanceId) {
      throw invalidField('instanceId', 'must equal the instance in the path');
    }
    const stage = dto.stage ?? null;
    const workflow = await this.repo.insert(
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
    await this.events.record(tenantId, createdEvent(workflow, cause));
    return workflow;
  }
}
