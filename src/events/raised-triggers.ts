import { APPROVAL_EVENTS } from '../approvals/approval-events';
import { triggerType } from '../rules/trigger-catalog';
import { WORKFLOW_EVENTS } from '../workflows/workflow-events';

type Data = Record<string, unknown>;

const record = (value: unknown): Data =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Data) : {};

/** What every workflow event tells about its workflow, as it is after the change. */
function workflowFacts(data: Data): Data {
  const w = record(data.workflow);
  return {
    workflow_type: w.workflow_type,
    stage: w.stage,
    reference: w.reference,
    escalation_level: w.escalation_level,
  };
}

/** What every approval event tells about its approval. */
function approvalFacts(data: Data): Data {
  const a = record(data.approval);
  return {
    skill_slug: a.skill_slug,
    action: a.action,
    approval_ref: a.approval_ref,
    approver_role: a.approver_role,
  };
}

/**
 * The types HydraCore raises that rules may trigger on, and what each one's rules may test, read
 * from the event's `data` as the log stores it (the wire form: snake_case, the workflow or the
 * approval as GET returns it). The catalog decides which of these fields a trigger offers.
 *
 * Left out on purpose: `binding.*` (a worker's channel address is personal data that a notify
 * action would copy into its message, and a binding made on the dashboard has no instance to
 * act for) and `notification.requested` (a rule that notifies on it feeds itself).
 */
const FACTS: Record<string, (data: Data) => Data> = {
  [WORKFLOW_EVENTS.created]: workflowFacts,
  [WORKFLOW_EVENTS.stageChanged]: (d) => ({
    ...workflowFacts(d),
    from_stage: d.from_stage,
    to_stage: d.to_stage,
  }),
  [WORKFLOW_EVENTS.statusChanged]: (d) => ({
    ...workflowFacts(d),
    from_status: d.from_status,
    to_status: d.to_status,
  }),
  [WORKFLOW_EVENTS.due]: workflowFacts,
  [APPROVAL_EVENTS.requested]: approvalFacts,
  [APPROVAL_EVENTS.resolved]: (d) => ({ ...approvalFacts(d), decision: d.decision }),
};

/**
 * The paths of `data` the facts above read: the evaluator's scan of the log fetches only these,
 * never the whole workflow or approval an event holds.
 */
export const RAISED_DATA_PATHS: readonly string[] = [
  ...['workflow_type', 'stage', 'reference', 'escalation_level'].map((f) => `workflow.${f}`),
  ...['skill_slug', 'action', 'approval_ref', 'approver_role'].map((f) => `approval.${f}`),
  'from_stage',
  'to_stage',
  'from_status',
  'to_status',
  'decision',
];

/** Values keyed by dotted path (as the scan answers) back into the shape `data` has. */
export function atPaths(flat: Data): Data {
  const data: Data = {};
  for (const [path, value] of Object.entries(flat)) {
    const keys = path.split('.');
    let at = data;
    for (const key of keys.slice(0, -1)) at = (at[key] ??= {}) as Data;
    at[keys[keys.length - 1]] = value;
  }
  return data;
}

/** The raised types rules are evaluated on: those HydraCore raises that the catalog lists. */
export const RAISED_TRIGGERS: readonly string[] = Object.keys(FACTS).filter((type) =>
  triggerType(type),
);

/** Whether rules are evaluated on events of this type when HydraCore raises them. */
export const isRaisedTrigger = (type: string): boolean => RAISED_TRIGGERS.includes(type);

/**
 * The payload a raised event's rules see: its trigger's catalog fields, those the event has a
 * value for (a field it has none for is left out, as a runtime leaves out what it does not
 * know). Null for a type rules are not evaluated on.
 */
export function raisedPayload(type: string, data: Data): Record<string, unknown> | null {
  const trigger = triggerType(type);
  const facts = FACTS[type];
  if (!trigger || !facts) return null;
  const all = facts(record(data));
  const payload: Record<string, unknown> = {};
  for (const { name } of trigger.payloadFields) {
    if (all[name] !== undefined && all[name] !== null) payload[name] = all[name];
  }
  return payload;
}

/** Every field a raised type's data can tell, whether or not its catalog entry offers it. */
export const raisedFacts = (type: string, data: Data): Data | null =>
  FACTS[type] ? FACTS[type](record(data)) : null;
