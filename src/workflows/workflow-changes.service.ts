import { Injectable } from '@nestjs/common';
import { assertCustomerAccess } from '../auth/principal';
import { DomainError, invalidField, notFound } from '../common/errors';
import { JSON_CAPS, jsonBytes, jsonTooLargeMessage } from '../common/json-limits';
import { EventLogService, NewEvent } from '../event-log/event-log.service';
import { AdvanceWorkflowDto, SuspendWorkflowDto, WorkflowActionResult } from './dto/workflows.dto';
import { Json, mergePatch } from './merge-patch';
import { Operation, WorkflowStatus, refusal } from './state-machine';
import { ResumedDetail, SuspendedDetail, Workflow } from './workflow.entity';
import { WorkflowCaller, actorOf, date } from './workflow-caller';
import { changeEvents, dueEvent } from './workflow-events';
import { HistoryRoom, NewHistoryEntry, assertHistoryRoom } from './workflow-history';
import { NOW, WorkflowChange } from './workflow-sql';
import { WorkflowsRepository } from './workflows.repository';
import { Meters } from '../observability/meters/meters';

/**
 * Changes to a workflow: each under the workflow's row lock, refused (409) when its status does
 * not allow it or its history is full, and written with its history entry in one statement.
 * Each raises its events (stage_changed, status_changed) in the same transaction, so they exist
 * exactly when the change does. The timers' changes (due, expiry) are here too.
 */
@Injectable()
export class WorkflowChangesService {
  constructor(
    private readonly repo: WorkflowsRepository,
    private readonly events: EventLogService,
    private readonly meters: Meters,
  ) {}

  async advance(caller: WorkflowCaller, id: string, dto: AdvanceWorkflowDto): Promise<Workflow> {
    const { workflow, history } = await this.open(caller, id, 'advance', dto.status);
    const status = dto.status ?? workflow.status;
    const stage = dto.stage === undefined ? workflow.stage : dto.stage;
    const state = dto.workflowState && mergedState(workflow, dto.workflowState, 'workflowState');
    const change: WorkflowChange = {
      status,
      stage,
      assignedTo: dto.assignedTo,
      approverId: dto.approverId,
      escalationLevel: dto.escalationLevel,
      expiresAt: date(dto.expiresAt),
      nextActionAt: date(dto.nextActionAt),
      workflowState: state,
      completedAt: status === 'completed' ? NOW : undefined,
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
    const detail = Object.assign(new SuspendedDetail(), { step: dto.step, payload });
    const done = await this.transition(caller, locked, 'suspended', 'suspended', detail, {
      suspendedStep: dto.step,
      suspendedPayload: payload,
      suspendedAt: NOW,
    });
    return result(done, `Workflow suspended at step ${dto.step}`);
  }

  async resume(
    caller: WorkflowCaller,
    id: string,
    resumeData?: Record<string, unknown>,
  ): Promise<WorkflowActionResult> {
    const locked = await this.open(caller, id, 'resume');
    const { workflow } = locked;
    const detail = Object.assign(new ResumedDetail(), {
      resumedFromStep: workflow.suspendedStep,
      resumeData: resumeData ?? null,
    });
    const done = await this.transition(caller, locked, 'active', 'resumed', detail, {
      workflowState: resumeData && mergedState(workflow, resumeData, 'resumeData'),
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

  /**
   * One batch of the tenant's timers, in the caller's transaction: up to `limit` workflows whose
   * next_action_at has come are marked announced with a `workflow.due` each, and up to `limit`
   * open ones past expires_at are expired with their `workflow.status_changed`. Says how many
   * of each it took.
   */
  async fireTimers(tenantId: string, limit: number): Promise<{ due: number; expired: number }> {
    const due = await this.repo.claimDue(tenantId, limit);
    const expired = await this.repo.expireDue(tenantId, limit);
    this.meters.timerFired(
      'workflow_due',
      due.map((w) => w.nextActionAt),
    );
    this.meters.timerFired(
      'workflow_expiry',
      expired.map((e) => e.workflow.expiresAt),
    );
    await this.raise(tenantId, [
      ...due.map(dueEvent),
      ...expired.flatMap(({ workflow, fromStatus }) =>
        changeEvents({ stage: workflow.stage, status: fromStatus }, workflow),
      ),
    ]);
    return { due: due.length, expired: expired.length };
  }

  /**
   * The change and its history entry, if the history has room for it (else 409), and the events
   * of what it changed.
   */
  private async append(
    workflow: Workflow,
    history: HistoryRoom,
    change: WorkflowChange,
    entry: NewHistoryEntry,
  ): Promise<Workflow> {
    assertHistoryRoom(history, entry);
    const changed = await this.repo.change(workflow, change, entry);
    await this.raise(workflow.tenantId, changeEvents(workflow, changed));
    return changed;
  }

  private async raise(tenantId: string, events: NewEvent[]): Promise<void> {
    if (events.length > 0) await this.events.record(tenantId, ...events);
  }
}

type Locked = { workflow: Workflow; history: HistoryRoom };

/** The state after a merge, refused (422 at `field`) when the result is over its cap. */
function mergedState(
  workflow: Workflow,
  patch: Record<string, unknown>,
  field: 'workflowState' | 'resumeData',
): object {
  const merged = mergePatch(workflow.workflowState.parse<Json>(), patch as Json) as object;
  if (jsonBytes(merged, JSON_CAPS.workflowState) > JSON_CAPS.workflowState) {
    throw invalidField(field, jsonTooLargeMessage(JSON_CAPS.workflowState), 'json_too_large');
  }
  return merged;
}

const CLEAR_SUSPENSION: WorkflowChange = {
  suspendedStep: null,
  suspendedPayload: null,
  suspendedAt: null,
};

const result = (w: Workflow, message: string) =>
  Object.assign(new WorkflowActionResult(), { id: w.id, message, status: w.status });
