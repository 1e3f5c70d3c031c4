import { FieldProblem } from '../common/errors';
import { REPLAYABLE_SERVICES } from './replayable-services';

/**
 * What an approval request may ask for, written once: the runtime's POST …/approvals/request
 * (its DTO and ApprovalsService) and a rule's require_approval action both check and default
 * through this file.
 */
export const APPROVER_ROLES = ['owner', 'customer'] as const;
export type ApproverRole = (typeof APPROVER_ROLES)[number];

/** Who approves when the request does not say. */
export const DEFAULT_APPROVER_ROLE: ApproverRole = 'customer';

/** How long an approval waits for its answer, in hours: an hour to a week, a day unless said. */
export const EXPIRES_IN_HOURS = { min: 1, max: 168, default: 24 } as const;

export interface ApprovalTerms {
  skillSlug: string;
  action: string;
  approverRole: ApproverRole;
  expiresInHours: number;
}

/** The terms as sent: anything at all, since a rule's actions are free-form JSON. */
export interface RawApprovalTerms {
  skillSlug?: unknown;
  action?: unknown;
  approverRole?: unknown;
  expiresInHours?: unknown;
}

/**
 * How a refusal of an unknown skill names the allowed ones: a rule's author reads the list in
 * the message; the runtime is pointed at the catalog's route. Both wordings are long-standing.
 */
export type SkillListing = 'listed' | 'route';

/**
 * Checks the terms in order (skill, action of that skill, approver role, hours) and applies the
 * defaults. On a refusal, `problems` holds the first one, named by its field in ApprovalTerms.
 */
export function checkApprovalTerms(
  raw: RawApprovalTerms,
  listing: SkillListing,
): { terms: ApprovalTerms; problems: [] } | { terms: null; problems: [FieldProblem] } {
  const refuse = (field: keyof ApprovalTerms, msg: string, type = 'value_error') => ({
    terms: null,
    problems: [{ field, msg, type }] as [FieldProblem],
  });
  const skill = REPLAYABLE_SERVICES.find((s) => s.skillSlug === raw.skillSlug);
  if (!skill) {
    const allowed =
      listing === 'listed'
        ? REPLAYABLE_SERVICES.map((s) => s.skillSlug).join(', ')
        : 'GET /v1/rules/replayable-services';
    return refuse('skillSlug', `skill_slug must be one of ${allowed}`, 'enum');
  }
  if (!skill.actions.some((x) => x.action === raw.action)) {
    const allowed = skill.actions.map((x) => x.action).join(', ');
    return refuse('action', `action of ${skill.skillSlug} must be one of ${allowed}`, 'enum');
  }
  const role = raw.approverRole ?? DEFAULT_APPROVER_ROLE;
  if (!APPROVER_ROLES.includes(role as ApproverRole))
    return refuse('approverRole', `approver_role must be ${APPROVER_ROLES.join(' or ')}`, 'enum');
  const hours = raw.expiresInHours ?? EXPIRES_IN_HOURS.default;
  const { min, max } = EXPIRES_IN_HOURS;
  if (typeof hours !== 'number' || !Number.isInteger(hours) || hours < min || hours > max)
    return refuse('expiresInHours', `expires_in_hours must be an integer from ${min} to ${max}`);
  return {
    terms: {
      skillSlug: skill.skillSlug,
      action: raw.action as string,
      approverRole: role as ApproverRole,
      expiresInHours: hours,
    },
    problems: [],
  };
}
