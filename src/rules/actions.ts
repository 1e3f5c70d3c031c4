import { ApproverRole, checkApprovalTerms } from '../approvals/approval-request';
import { FieldProblem } from '../common/errors';
import { toSnake } from '../common/wire';
import { WORKFLOW_TYPES, WorkflowType } from '../workflows/state-machine';
import { RULE_LIMITS } from './limits';

export const ACTION_TYPES = ['require_approval', 'notify', 'create_workflow', 'block'] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export type RuleAction =
  | {
      type: 'require_approval';
      skill_slug: string;
      action: string;
      approver_role: ApproverRole;
      expires_in_hours: number;
    }
  | { type: 'notify'; to: string; message: string }
  | {
      type: 'create_workflow';
      workflow_type: WorkflowType;
      stage: string | null;
      title: string | null;
    }
  | { type: 'block'; reason: string };

const MAX_ACTIONS = RULE_LIMITS.actionsPerRule;

/**
 * Checks raw actions and returns them cleaned (defaults applied, unknown keys dropped), or the
 * problems, each on the field `actions` at [i, key]. Stored actions are always of RuleAction's
 * shape, with the keys as written in the rule's JSON.
 */
export function validateActions(raw: unknown): { actions: RuleAction[]; errors: FieldProblem[] } {
  const whole = (msg: string, type: string) => ({
    actions: [],
    errors: [{ field: 'actions', path: [], msg, type }],
  });
  if (!Array.isArray(raw)) return whole('Input should be a valid list', 'list_type');
  if (raw.length < 1) return whole('At least one action is required', 'too_short');
  if (raw.length > MAX_ACTIONS) return whole(`At most ${MAX_ACTIONS} actions`, 'too_long');
  const errors: FieldProblem[] = [];
  const actions: RuleAction[] = [];
  raw.forEach((item: unknown, i) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      errors.push({
        field: 'actions',
        path: [i],
        msg: 'Input should be an object {type, …}',
        type: 'dict_type',
      });
      return;
    }
    const a = item as Record<string, unknown>;
    const fail = (key: string, msg: string, type = 'value_error') =>
      errors.push({ field: 'actions', path: [i, key], msg, type });
    const text = (
      key: string,
      min: number,
      max: number,
      required = true,
    ): string | null | undefined => {
      const v = a[key];
      if (v === undefined || v === null) {
        if (required) fail(key, 'Field required', 'missing');
        return required ? undefined : null;
      }
      if (typeof v !== 'string' || v.length < min || v.length > max) {
        const type =
          typeof v !== 'string'
            ? 'string_type'
            : v.length > max
              ? 'string_too_long'
              : 'string_too_short';
        fail(key, `${key} must be a string of ${min} to ${max} characters`, type);
        return undefined;
      }
      return v;
    };
    switch (a.type) {
      case 'require_approval': {
        const checked = checkApprovalTerms(
          {
            skillSlug: a.skill_slug,
            action: a.action,
            approverRole: a.approver_role,
            expiresInHours: a.expires_in_hours,
          },
          'listed',
        );
        // The terms' problems name ApprovalTerms' fields; here they are keys of the action.
        for (const p of checked.problems) fail(toSnake(p.field), p.msg, p.type);
        if (checked.terms) {
          const { skillSlug, action, approverRole, expiresInHours } = checked.terms;
          actions.push({
            type: 'require_approval',
            skill_slug: skillSlug,
            action,
            approver_role: approverRole,
            expires_in_hours: expiresInHours,
          });
        }
        return;
      }
      case 'notify': {
        const to = text('to', 1, 255);
        const message = text('message', 1, RULE_LIMITS.charactersPerValue);
        if (to && message) actions.push({ type: 'notify', to, message });
        return;
      }
      case 'create_workflow': {
        if (!WORKFLOW_TYPES.includes(a.workflow_type as WorkflowType)) {
          return fail(
            'workflow_type',
            `workflow_type must be one of ${WORKFLOW_TYPES.join(', ')}`,
            'enum',
          );
        }
        const stage = text('stage', 1, 100, false);
        const title = text('title', 1, 200, false);
        if (stage !== undefined && title !== undefined) {
          actions.push({
            type: 'create_workflow',
            workflow_type: a.workflow_type as WorkflowType,
            stage,
            title,
          });
        }
        return;
      }
      case 'block': {
        const reason = text('reason', 1, 500);
        if (reason) actions.push({ type: 'block', reason });
        return;
      }
      default:
        fail('type', `type must be one of ${ACTION_TYPES.join(', ')}`, 'enum');
    }
  });
  return { actions, errors };
}

/**
 * What the actions of the rules an event fires would create, counted before any of it runs:
 * an event over the limit does nothing at all rather than some of it.
 */
export function eventEffects(fired: readonly { actions: readonly RuleAction[] }[]): {
  workflows: number;
  approvals: number;
} {
  let workflows = 0;
  let approvals = 0;
  for (const rule of fired) {
    for (const action of rule.actions) {
      if (action.type === 'create_workflow') workflows++;
      else if (action.type === 'require_approval') approvals++;
    }
  }
  return { workflows, approvals };
}

/** The refusal of an event whose fired rules would create more than one event may. */
export function eventEffectsError(effects: {
  workflows: number;
  approvals: number;
}): FieldProblem | null {
  const { workflowsPerEvent, approvalsPerEvent } = RULE_LIMITS;
  if (effects.workflows <= workflowsPerEvent && effects.approvals <= approvalsPerEvent) return null;
  return {
    field: 'event',
    msg: `one event creates at most ${workflowsPerEvent} workflows and ${approvalsPerEvent} approvals; the rules it fires would create ${effects.workflows} workflows and ${effects.approvals} approvals`,
    type: 'value_error',
  };
}
