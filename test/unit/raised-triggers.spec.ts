import { Approval } from '../../src/approvals/approval.entity';
import {
  APPROVAL_EVENTS,
  ApprovalRequestedData,
  ApprovalResolvedData,
} from '../../src/approvals/approval-events';
import { toWire } from '../../src/common/wire';
import { NewEvent } from '../../src/event-log/event-log.service';
import { RAISED_TRIGGERS, raisedPayload } from '../../src/events/raised-triggers';
import { validatePayload } from '../../src/rules/condition-validation';
import { TRIGGER_TYPES, triggerType } from '../../src/rules/trigger-catalog';
import { Workflow } from '../../src/workflows/workflow.entity';
import { changeEvents, createdEvent, dueEvent } from '../../src/workflows/workflow-events';

const workflow = Object.assign(new Workflow(), {
  id: 'w',
  instanceId: 'i',
  customerId: 'c',
  workflowType: 'rent_arrears',
  status: 'completed',
  stage: 'court',
  reference: 'T-42',
  escalationLevel: 2,
});

const approval = Object.assign(new Approval(), {
  id: 'a',
  approvalRef: 'APR-7KQ2MX9D',
  customerId: 'c',
  instanceId: 'i',
  skillSlug: 'payments',
  action: 'pay_contractor',
  approverRole: 'owner',
  status: 'rejected',
});

/** Each raised type's event as its domain builds it, its data as the log stores it. */
const raised: NewEvent[] = [
  createdEvent(workflow),
  ...changeEvents({ stage: 'letter', status: 'active' }, workflow),
  dueEvent(workflow),
  {
    type: APPROVAL_EVENTS.requested,
    data: Object.assign(new ApprovalRequestedData(), { approval }),
  },
  {
    type: APPROVAL_EVENTS.resolved,
    data: Object.assign(new ApprovalResolvedData(), { approval, decision: 'rejected' }),
  },
];
const stored = (e: NewEvent) => JSON.parse(JSON.stringify(toWire(e.data)));

describe('raised triggers', () => {
  it('evaluates every workflow and approval event the catalog lists, and only those', () => {
    expect([...RAISED_TRIGGERS].sort()).toEqual(
      [
        'approval.requested',
        'approval.resolved',
        'workflow.created',
        'workflow.due',
        'workflow.stage_changed',
        'workflow.status_changed',
      ].sort(),
    );
    expect(raised.map((e) => e.type).sort()).toEqual([...RAISED_TRIGGERS].sort());
    for (const type of RAISED_TRIGGERS) expect(triggerType(type)).toBeDefined();
    const catalog = TRIGGER_TYPES.map((t) => t.event);
    expect(catalog).not.toContain('notification.requested');
    expect(catalog.filter((t) => t.startsWith('binding.'))).toEqual([]);
  });

  it.each(raised.map((e) => [e.type, e] as const))(
    'reads every catalog field of %s from its data, each valid for its type',
    (type, event) => {
      const payload = raisedPayload(type, stored(event));
      const fields = triggerType(type)!.payloadFields.map((f) => f.name);
      expect(Object.keys(payload!).sort()).toEqual([...fields].sort());
      expect(validatePayload(triggerType(type)!, payload!)).toEqual([]);
    },
  );

  it('reads the values the change made', () => {
    const [stage, status] = changeEvents({ stage: 'letter', status: 'active' }, workflow);
    expect(raisedPayload(stage.type, stored(stage))).toEqual({
      workflow_type: 'rent_arrears',
      from_stage: 'letter',
      to_stage: 'court',
      reference: 'T-42',
      escalation_level: 2,
    });
    expect(raisedPayload(status.type, stored(status))).toEqual({
      workflow_type: 'rent_arrears',
      from_status: 'active',
      to_status: 'completed',
      stage: 'court',
      reference: 'T-42',
      escalation_level: 2,
    });
    const resolved = raised[raised.length - 1];
    expect(raisedPayload(resolved.type, stored(resolved))).toEqual({
      skill_slug: 'payments',
      action: 'pay_contractor',
      decision: 'rejected',
      approval_ref: 'APR-7KQ2MX9D',
      approver_role: 'owner',
    });
  });

  it('leaves out what the event has no value for, and evaluates no other type', () => {
    const bare = createdEvent(Object.assign(new Workflow(), workflow, { stage: null }));
    expect(raisedPayload(bare.type, stored(bare))).toEqual({
      workflow_type: 'rent_arrears',
      reference: 'T-42',
    });
    expect(raisedPayload('workflow.created', {})).toEqual({});
    expect(raisedPayload('skill.invoked', { skill_slug: 'x' })).toBeNull();
    expect(raisedPayload('notification.requested', {})).toBeNull();
  });
});
