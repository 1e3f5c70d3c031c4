export const WORKFLOW_TYPES = [
  'lead',
  'rent_arrears',
  'maintenance',
  'compliance_renewal',
  'viewing',
  'roster',
  'approval',
  'invoice_chase',
  'onboarding',
  'custom',
] as const;
export type WorkflowType = (typeof WORKFLOW_TYPES)[number];

export const WORKFLOW_STATUSES = [
  'active',
  'awaiting_approval',
  'paused',
  'suspended',
  'completed',
  'expired',
  'cancelled',
  'failed',
] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];

export const TERMINAL_STATUSES: readonly WorkflowStatus[] = [
  'completed',
  'expired',
  'cancelled',
  'failed',
];
export const OPEN_STATUSES = WORKFLOW_STATUSES.filter((s) => !TERMINAL_STATUSES.includes(s));

export type Operation = 'advance' | 'suspend' | 'resume' | 'abort';

/** Why an operation is refused (a 409), or null when it may go ahead. */
export function refusal(
  operation: Operation,
  current: WorkflowStatus,
  target?: WorkflowStatus,
): string | null {
  if (TERMINAL_STATUSES.includes(current)) return `Workflow is ${current}`;
  switch (operation) {
    case 'advance':
      if (current === 'suspended') return 'Workflow is suspended: resume it first';
      if (target === 'suspended') return 'A workflow is suspended only through suspend';
      return null;
    case 'suspend':
      return current === 'suspended' ? 'Workflow is already suspended' : null;
    case 'resume':
      return current === 'suspended' ? null : `Workflow is ${current}, not suspended`;
    case 'abort':
      return null;
    default: {
      const unreachable: never = operation;
      return `unknown operation ${String(unreachable)}`;
    }
  }
}
