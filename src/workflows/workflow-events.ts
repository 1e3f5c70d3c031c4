import { WireField } from '../common/wire';
import type { EventCause, NewEvent } from '../event-log/event-log.service';
import { WORKFLOW_STATUSES, WorkflowStatus } from './state-machine';
import { Workflow } from './workflow.entity';

/** The event log's types for workflows. */
export const WORKFLOW_EVENTS = {
  created: 'workflow.created',
  stageChanged: 'workflow.stage_changed',
  statusChanged: 'workflow.status_changed',
  due: 'workflow.due',
} as const;

/**
 * The `data` of every workflow event: `workflow` is the workflow as GET returns it, after the
 * change. Stored as a response would show it (snake_case, documents as JSON).
 */
export class WorkflowEventData {
  @WireField({ type: Workflow }) workflow!: Workflow;
}

export class WorkflowStageChanged extends WorkflowEventData {
  @WireField({ nullable: true, type: 'string' }) fromStage!: string | null;
  @WireField({ nullable: true, type: 'string' }) toStage!: string | null;
}

export class WorkflowStatusChanged extends WorkflowEventData {
  @WireField({ enum: WORKFLOW_STATUSES }) fromStatus!: WorkflowStatus;
  @WireField({ enum: WORKFLOW_STATUSES }) toStatus!: WorkflowStatus;
}

function event(type: string, workflow: Workflow, data: object, cause: EventCause = {}): NewEvent {
  return {
    type,
    instanceId: workflow.instanceId,
    customerId: workflow.customerId,
    ...cause,
    data,
  };
}

const withWorkflow = (workflow: Workflow) => Object.assign(new WorkflowEventData(), { workflow });

export const createdEvent = (workflow: Workflow, cause?: EventCause): NewEvent =>
  event(WORKFLOW_EVENTS.created, workflow, withWorkflow(workflow), cause);

export const dueEvent = (workflow: Workflow): NewEvent =>
  event(WORKFLOW_EVENTS.due, workflow, withWorkflow(workflow));

/** The stage and status a workflow had before a change. */
export type Before = Pick<Workflow, 'stage' | 'status'>;

/**
 * The events of a change from `before` to `after`: stage_changed, then status_changed, each only
 * when that field changed; none for a change of neither.
 */
export function changeEvents(before: Before, after: Workflow): NewEvent[] {
  const events: NewEvent[] = [];
  if (before.stage !== after.stage) {
    const data = Object.assign(new WorkflowStageChanged(), {
      workflow: after,
      fromStage: before.stage,
      toStage: after.stage,
    });
    events.push(event(WORKFLOW_EVENTS.stageChanged, after, data));
  }
  if (before.status !== after.status) {
    const data = Object.assign(new WorkflowStatusChanged(), {
      workflow: after,
      fromStatus: before.status,
      toStatus: after.status,
    });
    events.push(event(WORKFLOW_EVENTS.statusChanged, after, data));
  }
  return events;
}
