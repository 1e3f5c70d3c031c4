import { WORKFLOW_STATUSES, WORKFLOW_TYPES } from '../workflows/state-machine';

export const FIELD_TYPES = ['string', 'number', 'boolean', 'enum', 'datetime'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface PayloadField {
  name: string;
  type: FieldType;
  label: string;
  values?: readonly string[];
}

export interface TriggerType {
  event: string;
  label: string;
  description: string;
  payloadFields: PayloadField[];
}

const CURRENCIES = ['GBP', 'EUR', 'USD'] as const;
const CHANNELS = ['whatsapp', 'sms', 'voice', 'telegram', 'email', 'web_chat'] as const;

const s = (name: string, label: string): PayloadField => ({ name, type: 'string', label });
const n = (name: string, label: string): PayloadField => ({ name, type: 'number', label });
const b = (name: string, label: string): PayloadField => ({ name, type: 'boolean', label });
const d = (name: string, label: string): PayloadField => ({ name, type: 'datetime', label });
const e = (name: string, label: string, values: readonly string[]): PayloadField => ({
  name,
  type: 'enum',
  label,
  values,
});

/** Every event a rule can trigger on, with the payload fields its conditions may test. */
export const TRIGGER_TYPES: TriggerType[] = [
  {
    event: 'message.received',
    label: 'Message received',
    description: 'A person sent the agent a message on any channel.',
    payloadFields: [
      e('channel_type', 'Channel', CHANNELS),
      s('from_address', 'Sender address'),
      s('body', 'Message text'),
      b('is_first_contact', 'First contact'),
      e('sentiment', 'Sentiment', ['positive', 'neutral', 'negative']),
      d('received_at', 'Received at'),
    ],
  },
  {
    event: 'skill.invoked',
    label: 'Skill invoked',
    description: 'The agent is about to call a skill (the moment to require approval or block).',
    payloadFields: [
      s('skill_slug', 'Skill'),
      s('action', 'Action'),
      n('amount', 'Amount'),
      e('currency', 'Currency', CURRENCIES),
      s('requested_by', 'Requested by'),
      s('property_ref', 'Property reference'),
      d('invoked_at', 'Invoked at'),
    ],
  },
  {
    event: 'workflow.created',
    label: 'Workflow created',
    description: 'A workflow was opened.',
    payloadFields: [
      e('workflow_type', 'Workflow type', WORKFLOW_TYPES),
      s('stage', 'Stage'),
      s('reference', 'Reference'),
    ],
  },
  {
    event: 'workflow.stage_changed',
    label: 'Workflow stage changed',
    description: 'A workflow moved from one stage to another.',
    payloadFields: [
      e('workflow_type', 'Workflow type', WORKFLOW_TYPES),
      s('from_stage', 'From stage'),
      s('to_stage', 'To stage'),
      s('reference', 'Reference'),
      n('escalation_level', 'Escalation level'),
    ],
  },
  {
    event: 'workflow.status_changed',
    label: 'Workflow status changed',
    description: 'A workflow changed status (for example completed or failed).',
    payloadFields: [
      e('workflow_type', 'Workflow type', WORKFLOW_TYPES),
      e('from_status', 'From status', WORKFLOW_STATUSES),
      e('to_status', 'To status', WORKFLOW_STATUSES),
      s('stage', 'Stage'),
      s('reference', 'Reference'),
      n('escalation_level', 'Escalation level'),
    ],
  },
  {
    event: 'workflow.due',
    label: 'Workflow due',
    description: "A workflow's next action time came (once per time set; never once it has ended).",
    payloadFields: [
      e('workflow_type', 'Workflow type', WORKFLOW_TYPES),
      s('stage', 'Stage'),
      s('reference', 'Reference'),
      n('escalation_level', 'Escalation level'),
    ],
  },
  {
    event: 'approval.requested',
    label: 'Approval requested',
    description: 'An action was held for a human to approve.',
    payloadFields: [
      s('skill_slug', 'Skill'),
      s('action', 'Action'),
      s('approval_ref', 'Approval reference'),
      e('approver_role', 'Approver role', ['owner', 'customer']),
    ],
  },
  {
    event: 'approval.resolved',
    label: 'Approval resolved',
    description: 'A human approved or rejected a held action, or it expired.',
    payloadFields: [
      s('skill_slug', 'Skill'),
      s('action', 'Action'),
      e('decision', 'Decision', ['approved', 'rejected', 'expired']),
      s('approval_ref', 'Approval reference'),
      e('approver_role', 'Approver role', ['owner', 'customer']),
    ],
  },
  {
    event: 'rent.overdue',
    label: 'Rent overdue',
    description: 'A tenancy has rent outstanding past its due date.',
    payloadFields: [
      s('tenancy_ref', 'Tenancy reference'),
      s('property_ref', 'Property reference'),
      n('amount', 'Amount outstanding'),
      e('currency', 'Currency', CURRENCIES),
      n('days_overdue', 'Days overdue'),
      d('due_date', 'Due date'),
      b('has_payment_plan', 'Has payment plan'),
    ],
  },
  {
    event: 'maintenance.reported',
    label: 'Maintenance reported',
    description: 'A tenant or inspector reported a repair.',
    payloadFields: [
      s('property_ref', 'Property reference'),
      e('category', 'Category', [
        'plumbing',
        'electrical',
        'heating',
        'structural',
        'appliance',
        'pest',
        'other',
      ]),
      e('urgency', 'Urgency', ['low', 'normal', 'high', 'emergency']),
      s('description', 'Description'),
      n('estimated_cost', 'Estimated cost'),
      d('reported_at', 'Reported at'),
    ],
  },
  {
    event: 'invoice.overdue',
    label: 'Invoice overdue',
    description: 'A supplier or contractor invoice is unpaid past its due date.',
    payloadFields: [
      s('invoice_ref', 'Invoice reference'),
      s('supplier', 'Supplier'),
      n('amount', 'Amount'),
      e('currency', 'Currency', CURRENCIES),
      n('days_overdue', 'Days overdue'),
      d('due_date', 'Due date'),
    ],
  },
  {
    event: 'compliance.expiring',
    label: 'Compliance certificate expiring',
    description: 'A safety certificate or licence of a property is about to expire.',
    payloadFields: [
      s('property_ref', 'Property reference'),
      e('certificate_type', 'Certificate', [
        'gas_safety',
        'eicr',
        'epc',
        'fire_risk',
        'legionella',
        'hmo_licence',
      ]),
      d('expires_at', 'Expires at'),
      n('days_until_expiry', 'Days until expiry'),
    ],
  },
  {
    event: 'viewing.booked',
    label: 'Viewing booked',
    description: 'An applicant booked a property viewing.',
    payloadFields: [
      s('property_ref', 'Property reference'),
      d('viewing_at', 'Viewing at'),
      s('applicant_name', 'Applicant'),
      b('is_repeat_viewing', 'Repeat viewing'),
    ],
  },
];

const BY_EVENT = new Map(TRIGGER_TYPES.map((t) => [t.event, t]));
export const triggerType = (event: string): TriggerType | undefined => BY_EVENT.get(event);
