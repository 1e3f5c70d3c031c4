/** The kinds of value a replayed call takes: a subset of the rules' payload field types. */
export type ParamType = 'string' | 'number' | 'boolean' | 'datetime';

export interface ServiceParam {
  name: string;
  type: ParamType;
  label: string;
  required: boolean;
}

export interface ReplayableAction {
  action: string;
  label: string;
  params: ServiceParam[];
}

export interface ReplayableService {
  skillSlug: string;
  label: string;
  description: string;
  actions: ReplayableAction[];
}

const p = (name: string, type: ParamType, label: string, required = true): ServiceParam => ({
  name,
  type,
  label,
  required,
});

/** The skills whose calls can be held for a human's approval and replayed once approved. */
export const REPLAYABLE_SERVICES: ReplayableService[] = [
  {
    skillSlug: 'payments',
    label: 'Payments',
    description: 'Money leaving the client account.',
    actions: [
      {
        action: 'pay_contractor',
        label: 'Pay a contractor',
        params: [
          p('contractor_id', 'string', 'Contractor'),
          p('amount', 'number', 'Amount'),
          p('currency', 'string', 'Currency'),
          p('invoice_ref', 'string', 'Invoice', false),
        ],
      },
      {
        action: 'refund_deposit',
        label: 'Refund a deposit',
        params: [
          p('tenancy_ref', 'string', 'Tenancy'),
          p('amount', 'number', 'Amount'),
          p('currency', 'string', 'Currency'),
          p('reason', 'string', 'Reason', false),
        ],
      },
    ],
  },
  {
    skillSlug: 'maintenance',
    label: 'Maintenance',
    description: 'Booking work at a property.',
    actions: [
      {
        action: 'book_contractor',
        label: 'Book a contractor',
        params: [
          p('job_ref', 'string', 'Job'),
          p('contractor_id', 'string', 'Contractor'),
          p('slot', 'datetime', 'Slot'),
          p('estimated_cost', 'number', 'Estimated cost', false),
        ],
      },
    ],
  },
  {
    skillSlug: 'messaging',
    label: 'Messaging',
    description: 'Messages to many people at once.',
    actions: [
      {
        action: 'send_bulk',
        label: 'Send a bulk message',
        params: [
          p('audience', 'string', 'Audience'),
          p('template', 'string', 'Template'),
          p('channel', 'string', 'Channel'),
        ],
      },
    ],
  },
  {
    skillSlug: 'tenancy',
    label: 'Tenancy',
    description: 'Legal steps in a tenancy.',
    actions: [
      {
        action: 'serve_notice',
        label: 'Serve a notice',
        params: [
          p('tenancy_ref', 'string', 'Tenancy'),
          p('notice_type', 'string', 'Notice type'),
          p('served_on', 'datetime', 'Served on'),
        ],
      },
    ],
  },
];
