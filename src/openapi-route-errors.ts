/**
 * What only some routes answer, as their services throw it, by operation id (Controller_method):
 * [description, example]. openapi-errors.ts adds it to what every route of its class answers;
 * a 409 reason joins the lock wait that any change may end in.
 */
export type RouteErrors = Partial<Record<404 | 409 | 410 | 503, [string, string]>>;

const NO_CUSTOMER: [string, string] = [
  'No customer with this customer_id in the tenant',
  'Customer not found',
];
const CHANNEL_TAKEN = 'an endpoint of this channel type, provider and identifier exists';
const ADDRESS_TAKEN = 'the channel address has a live binding already';
const PAST_RETENTION: [string, string] = [
  'The cursor is past retention: events after it were removed',
  'Events after this cursor are past retention; start over',
];
const WORKFLOW_STATE: [string, string] = [
  'the workflow is closed or not in a status this allows, or its history is full',
  'Workflow is suspended: resume it first',
];

export const ROUTE_ERRORS: Record<string, RouteErrors> = {
  HealthController_ready: {
    503: [
      'The database does not answer within 2 s, or this replica is shutting down',
      'Database unavailable',
    ],
  },
  InstancesController_rotateProxyKey: {
    409: ['the key is already rotated', 'Proxy key is already rotated'],
  },
  InternalWorkerBindingsController_lookup: {
    404: ['No live binding has this address', 'Binding not found'],
  },
  InternalWorkerBindingsController_list: { 404: NO_CUSTOMER },
  InternalApprovalsController_pending: { 404: NO_CUSTOMER },
  DashboardEventsController_get: {
    404: [
      'No such event in this tenant (yet: an event shows once it has its sequence)',
      'Event not found',
    ],
  },
  CustomersController_create: {
    409: ['the tenant holds 10,000 customers', 'A tenant has at most 10,000 customers'],
  },
  CustomersController_createPerson: {
    409: ['the customer holds 10,000 persons', 'A customer has at most 10,000 persons'],
  },
  InstancesController_create: {
    409: ['the tenant holds 1,000 live instances', 'A tenant has at most 1,000 instances'],
  },
  ApiKeysController_create: {
    409: ['the tenant holds 100 live API keys', 'A tenant has at most 100 live API keys'],
  },
  ChannelsController_create: {
    409: [CHANNEL_TAKEN, 'A sms endpoint on twilio for +447700900123 already exists'],
  },
  ChannelsController_update: {
    409: [CHANNEL_TAKEN, 'A sms endpoint on twilio for +447700900123 already exists'],
  },
  RulesController_create: {
    409: [
      'a tenant default with this rule_key refuses customer overrides, or the tenant has as many rules as it may',
      'The tenant default with rule_key "payments" does not allow customer overrides: choose another rule_key',
    ],
  },
  RulesController_update: {
    409: [
      'a tenant default with this rule_key refuses customer overrides',
      'The tenant default with rule_key "payments" does not allow customer overrides: choose another rule_key',
    ],
  },
  InternalApprovalsController_request: {
    409: [
      'the idempotency_key was used for a different request',
      'idempotency_key was already used for a different request',
    ],
  },
  InternalApprovalsController_resolve: {
    404: ['No approval has this approval_ref', 'Approval not found'],
    409: ['the approval is no longer pending', 'Approval is approved'],
    410: ['The approval has expired (it is now marked expired)', 'Approval has expired'],
  },
  EventsController_report: {
    409: [
      'the idempotency_key was used for a different event, or one of its rules was deleted while ' +
        'it ran (retry: the retry reads the rules as they now are)',
      'idempotency_key was already used for a different event',
    ],
  },
  InternalEventFeedController_feed: { 410: PAST_RETENTION },
  DashboardEventsController_list: { 410: PAST_RETENTION },
  WebhookEndpointsController_create: {
    409: [
      'the tenant has as many endpoints as it may',
      'A tenant may have at most 50 webhook endpoints',
    ],
  },
  WebhookEndpointsController_replay: {
    409: [
      'the tenant has as many webhook deliveries pending as replays may leave',
      'The tenant has 50,000 webhook deliveries pending or more: replay once fewer are',
    ],
  },
};

for (const [controller, methods] of [
  ['InternalWorkflowsController', ['advance', 'resume', 'suspend']],
  ['TenantWorkflowsController', ['abort', 'resume', 'suspend']],
] as const) {
  for (const method of methods) ROUTE_ERRORS[`${controller}_${method}`] = { 409: WORKFLOW_STATE };
}
for (const controller of ['InternalWorkerBindingsController', 'TenantWorkerBindingsController']) {
  ROUTE_ERRORS[`${controller}_create`] = {
    409: [ADDRESS_TAKEN, 'Channel address +447700900123 (sms) is already bound'],
  };
  ROUTE_ERRORS[`${controller}_rebind`] = {
    409: [`the binding is revoked, or ${ADDRESS_TAKEN}`, 'Binding is revoked'],
  };
  ROUTE_ERRORS[`${controller}_revoke`] = {
    409: ['the binding is already revoked', 'Binding is revoked'],
  };
}
ROUTE_ERRORS.InternalWorkerBindingsController_verify = {
  409: ['the binding is revoked', 'Binding is revoked'],
};
