import { TenantDb } from '../../src/database/tenant-db';
import { EventLogService } from '../../src/event-log/event-log.service';
import { EventSequencer } from '../../src/event-log/event-sequencer';
import { AUDIT_ROUTES } from './audit-routes';
import { DIRECTORY_ROUTES } from './directory-routes';
import { RUNTIME_LOOKUP_ROUTES } from './runtime-lookup-routes';
import { WEBHOOK_ROUTES } from './webhook-routes';
import { Caller, World, freshPhone, make } from './world';

/**
 * Who may call a route:
 * - public: anyone, no credential needed;
 * - platform: the platform key only (no caller of the matrix holds it);
 * - internal: the proxy key of the instance in the path;
 * - tenant_admin: a tenant admin of the tenant (JWT or admin API key);
 * - customer_admin: an admin; a customer admin only for its own customer's rows;
 * - any_member: any principal of the tenant; a customer-scoped one is narrowed to its customer
 *   (lists) and refused another customer's row (403).
 */
export type Access =
  'public' | 'platform' | 'internal' | 'tenant_admin' | 'customer_admin' | 'any_member';

export interface Call {
  url: string;
  body?: unknown;
}

export interface MatrixRoute {
  /** As in /openapi.json: 'GET /v1/workflows/{workflow_id}'. */
  route: string;
  access: Access;
  /** The status an allowed caller gets. */
  ok: number;
  /** Builds the call, on fresh resources where the route changes what it acts on. */
  call: (w: World) => Promise<Call> | Call;
  /** Where the route names no tenant-A row, a caller of B is served its own tenant. */
  tenantFree?: boolean;
  /** Statuses that differ from the access class's rule, each with its reason. */
  except?: Partial<Record<Caller, number>>;
}

const internal = (w: World) => `/internal/v1/instances/${w.i1}`;

/** An event of customer 1 in tenant A, committed and numbered: what the dashboard shows. */
async function loggedEvent(w: World): Promise<string> {
  const { app } = w.t;
  const tenantId = w.a.tenantId;
  const [id] = await app.get(TenantDb).run(tenantId, () =>
    app.get(EventLogService).record(tenantId, {
      type: 'matrix.checked',
      customerId: w.c1,
      instanceId: w.i1,
      data: { by: 'the isolation matrix' },
    }),
  );
  await app.get(EventSequencer).sweep();
  w.idsOfA.add(id);
  w.idsOfC1.add(id);
  return id;
}

/** Customer 1's rule, fired by an event of customer 1: a firing log with a row to show. */
async function firedRule(w: World): Promise<string> {
  const id = await make.rule(w);
  const res = await w.t
    .http()
    .post(`${internal(w)}/events`)
    .set(w.headers.proxy_key_a_instance)
    .send({ event: 'skill.invoked', customer_id: w.c1, payload: { skill_slug: 'payments' } });
  if (res.status !== 200) throw new Error(`event: ${res.status} ${JSON.stringify(res.body)}`);
  const { rows } = await w.t.raw.query<{ id: string }>(
    `SELECT id FROM rule_evaluations WHERE tenant_id = $1 AND rule_id = $2`,
    [w.a.tenantId, id],
  );
  if (rows.length !== 1) throw new Error(`the rule fired ${rows.length} times, not once`);
  for (const firing of rows) {
    w.idsOfA.add(firing.id);
    w.idsOfC1.add(firing.id);
  }
  return id;
}

export const MATRIX: MatrixRoute[] = [
  { route: 'GET /healthz', access: 'public', ok: 200, call: () => ({ url: '/healthz' }) },
  { route: 'GET /readyz', access: 'public', ok: 200, call: () => ({ url: '/readyz' }) },
  // The suites run without METRICS_TOKEN: the route is not there for anyone (metrics.spec).
  { route: 'GET /metrics', access: 'public', ok: 404, call: () => ({ url: '/metrics' }) },
  {
    route: 'GET /v1/rules/trigger-types',
    access: 'public',
    ok: 200,
    call: () => ({ url: '/v1/rules/trigger-types' }),
  },
  {
    route: 'GET /v1/rules/replayable-services',
    access: 'public',
    ok: 200,
    call: () => ({ url: '/v1/rules/replayable-services' }),
  },
  {
    route: 'POST /platform/v1/tenants',
    access: 'platform',
    ok: 201,
    call: () => ({ url: '/platform/v1/tenants', body: { name: 'Intruder' } }),
  },

  // Directory
  {
    route: 'GET /v1/customers',
    access: 'tenant_admin',
    ok: 200,
    tenantFree: true,
    call: () => ({ url: '/v1/customers' }),
  },
  {
    route: 'POST /v1/customers',
    access: 'tenant_admin',
    ok: 201,
    tenantFree: true,
    call: () => ({ url: '/v1/customers', body: { name: 'New customer' } }),
  },
  {
    route: 'GET /v1/customers/{customer_id}',
    access: 'tenant_admin',
    ok: 200,
    call: (w) => ({ url: `/v1/customers/${w.c1}` }),
  },
  {
    route: 'GET /v1/customers/{customer_id}/persons',
    access: 'tenant_admin',
    ok: 200,
    call: (w) => ({ url: `/v1/customers/${w.c1}/persons` }),
  },
  {
    route: 'POST /v1/customers/{customer_id}/persons',
    access: 'tenant_admin',
    ok: 201,
    call: (w) => ({ url: `/v1/customers/${w.c1}/persons`, body: { name: 'New person' } }),
  },
  {
    route: 'GET /v1/instances',
    access: 'tenant_admin',
    ok: 200,
    tenantFree: true,
    call: () => ({ url: '/v1/instances' }),
  },
  {
    route: 'POST /v1/instances',
    access: 'tenant_admin',
    ok: 201,
    tenantFree: true,
    call: () => ({ url: '/v1/instances', body: { name: 'New instance' } }),
  },
  {
    route: 'GET /v1/instances/{instance_id}/proxy-keys',
    access: 'tenant_admin',
    ok: 200,
    call: (w) => ({ url: `/v1/instances/${w.i1}/proxy-keys` }),
  },
  {
    route: 'POST /v1/instances/{instance_id}/proxy-keys',
    access: 'tenant_admin',
    ok: 201,
    call: (w) => ({ url: `/v1/instances/${w.i1}/proxy-keys`, body: {} }),
  },
  {
    route: 'DELETE /v1/instances/{instance_id}/proxy-keys/{key_id}',
    access: 'tenant_admin',
    ok: 204,
    call: async (w) => ({ url: `/v1/instances/${w.i1}/proxy-keys/${await make.proxyKey(w)}` }),
  },
  {
    route: 'GET /v1/api-keys',
    access: 'tenant_admin',
    ok: 200,
    tenantFree: true,
    call: () => ({ url: '/v1/api-keys' }),
  },
  {
    route: 'POST /v1/api-keys',
    access: 'tenant_admin',
    ok: 201,
    tenantFree: true,
    call: () => ({ url: '/v1/api-keys', body: { name: 'k', role: 'member' } }),
  },
  {
    route: 'DELETE /v1/api-keys/{key_id}',
    access: 'tenant_admin',
    ok: 204,
    call: async (w) => ({ url: `/v1/api-keys/${await make.apiKey(w)}` }),
  },
  {
    route: 'GET /internal/v1/instances/{instance_id}',
    access: 'internal',
    ok: 200,
    call: (w) => ({ url: internal(w) }),
  },

  // Worker bindings
  {
    route: 'GET /internal/v1/instances/{instance_id}/worker-bindings',
    access: 'internal',
    ok: 200,
    call: (w) => ({ url: `${internal(w)}/worker-bindings?customer_id=${w.c1}` }),
  },
  {
    route: 'POST /internal/v1/instances/{instance_id}/worker-bindings',
    access: 'internal',
    ok: 201,
    call: (w) => ({
      url: `${internal(w)}/worker-bindings`,
      body: {
        customer_id: w.c1,
        person_id: w.p1,
        channel_type: 'whatsapp',
        channel_address: freshPhone(),
      },
    }),
  },
  ...(['rebind', 'revoke', 'verify'] as const).map((action): MatrixRoute => ({
    route: `POST /internal/v1/instances/{instance_id}/worker-bindings/{binding_id}/${action}`,
    access: 'internal',
    ok: action === 'rebind' ? 201 : 200,
    call: async (w) => ({
      url: `${internal(w)}/worker-bindings/${await make.binding(w)}/${action}`,
      body: action === 'rebind' ? { new_address: freshPhone() } : {},
    }),
  })),
  {
    route: 'GET /v1/customers/{customer_id}/worker-bindings',
    access: 'customer_admin',
    ok: 200,
    call: (w) => ({ url: `/v1/customers/${w.c1}/worker-bindings` }),
  },
  {
    route: 'POST /v1/customers/{customer_id}/worker-bindings',
    access: 'customer_admin',
    ok: 201,
    call: (w) => ({
      url: `/v1/customers/${w.c1}/worker-bindings`,
      body: {
        customer_id: w.c1,
        person_id: w.p1,
        channel_type: 'whatsapp',
        channel_address: freshPhone(),
      },
    }),
  },
  ...(['rebind', 'revoke'] as const).map((action): MatrixRoute => ({
    route: `POST /v1/customers/{customer_id}/worker-bindings/{binding_id}/${action}`,
    access: 'customer_admin',
    ok: action === 'rebind' ? 201 : 200,
    call: async (w) => ({
      url: `/v1/customers/${w.c1}/worker-bindings/${await make.binding(w)}/${action}`,
      body: action === 'rebind' ? { new_address: freshPhone() } : {},
    }),
  })),

  // Channels
  {
    route: 'GET /v1/instances/{instance_id}/channels',
    access: 'any_member',
    ok: 200,
    // An instance is the tenant's, not a customer's: every principal of the tenant lists.
    except: { customer_admin_a2: 200 },
    call: (w) => ({ url: `/v1/instances/${w.i1}/channels` }),
  },
  {
    route: 'POST /v1/instances/{instance_id}/channels',
    access: 'tenant_admin',
    ok: 201,
    call: (w) => ({
      url: `/v1/instances/${w.i1}/channels`,
      body: { channel_type: 'sms', provider: 'twilio', external_identifier: freshPhone() },
    }),
  },
  {
    route: 'PATCH /v1/instances/{instance_id}/channels/{endpoint_id}',
    access: 'tenant_admin',
    ok: 200,
    call: async (w) => ({
      url: `/v1/instances/${w.i1}/channels/${await make.endpoint(w)}`,
      body: { enabled: false },
    }),
  },
  {
    route: 'DELETE /v1/instances/{instance_id}/channels/{endpoint_id}',
    access: 'tenant_admin',
    ok: 204,
    call: async (w) => ({ url: `/v1/instances/${w.i1}/channels/${await make.endpoint(w)}` }),
  },

  // Workflows
  {
    route: 'GET /internal/v1/instances/{instance_id}/workflows',
    access: 'internal',
    ok: 200,
    call: (w) => ({ url: `${internal(w)}/workflows` }),
  },
  {
    route: 'POST /internal/v1/instances/{instance_id}/workflows',
    access: 'internal',
    ok: 201,
    call: (w) => ({
      url: `${internal(w)}/workflows`,
      body: { customer_id: w.c1, workflow_type: 'lead' },
    }),
  },
  {
    route: 'GET /internal/v1/instances/{instance_id}/workflows/{workflow_id}',
    access: 'internal',
    ok: 200,
    call: async (w) => ({ url: `${internal(w)}/workflows/${await make.workflow(w)}` }),
  },
  {
    route: 'PATCH /internal/v1/instances/{instance_id}/workflows/{workflow_id}',
    access: 'internal',
    ok: 200,
    call: async (w) => ({
      url: `${internal(w)}/workflows/${await make.workflow(w)}`,
      body: { action: 'contacted', stage: 'contacted' },
    }),
  },
  {
    route: 'POST /internal/v1/instances/{instance_id}/workflows/{workflow_id}/resume',
    access: 'internal',
    ok: 200,
    call: async (w) => ({
      url: `${internal(w)}/workflows/${await make.suspendedWorkflow(w)}/resume`,
      body: {},
    }),
  },
  {
    route: 'POST /internal/v1/instances/{instance_id}/workflows/{workflow_id}/suspend',
    access: 'internal',
    ok: 200,
    call: async (w) => ({
      url: `${internal(w)}/workflows/${await make.workflow(w)}/suspend`,
      body: { step: 'wait' },
    }),
  },
  {
    route: 'GET /v1/workflows',
    access: 'customer_admin',
    ok: 200,
    tenantFree: true,
    call: () => ({ url: '/v1/workflows' }),
  },
  {
    route: 'GET /v1/workflows/suspended',
    access: 'customer_admin',
    ok: 200,
    tenantFree: true,
    call: () => ({ url: '/v1/workflows/suspended' }),
  },
  {
    route: 'GET /v1/workflows/{workflow_id}',
    access: 'customer_admin',
    ok: 200,
    call: async (w) => ({ url: `/v1/workflows/${await make.workflow(w)}` }),
  },
  {
    route: 'POST /v1/workflows/{workflow_id}/abort',
    access: 'customer_admin',
    ok: 200,
    call: async (w) => ({ url: `/v1/workflows/${await make.workflow(w)}/abort`, body: {} }),
  },
  {
    route: 'POST /v1/workflows/{workflow_id}/resume',
    access: 'customer_admin',
    ok: 200,
    call: async (w) => ({
      url: `/v1/workflows/${await make.suspendedWorkflow(w)}/resume`,
      body: {},
    }),
  },
  {
    route: 'POST /v1/workflows/{workflow_id}/suspend',
    access: 'customer_admin',
    ok: 200,
    call: async (w) => ({
      url: `/v1/workflows/${await make.workflow(w)}/suspend`,
      body: { step: 'wait' },
    }),
  },

  // Rules
  {
    route: 'GET /v1/rules',
    access: 'any_member',
    ok: 200,
    tenantFree: true,
    call: () => ({ url: '/v1/rules' }),
  },
  {
    route: 'POST /v1/rules',
    access: 'customer_admin',
    ok: 201,
    // B names A's customer in the body: a reference that does not exist for B.
    except: { tenant_admin_b: 422 },
    call: (w) => ({
      url: '/v1/rules',
      body: {
        name: 'Created by the matrix',
        customer_id: w.c1,
        trigger_event: 'skill.invoked',
        actions: [{ type: 'block', reason: 'matrix' }],
      },
    }),
  },
  {
    route: 'GET /v1/rules/{rule_id}',
    access: 'any_member',
    ok: 200,
    call: async (w) => ({ url: `/v1/rules/${await make.rule(w)}` }),
  },
  {
    route: 'PATCH /v1/rules/{rule_id}',
    access: 'customer_admin',
    ok: 200,
    call: async (w) => ({ url: `/v1/rules/${await make.rule(w)}`, body: { priority: 5 } }),
  },
  {
    route: 'DELETE /v1/rules/{rule_id}',
    access: 'customer_admin',
    ok: 204,
    call: async (w) => ({ url: `/v1/rules/${await make.rule(w)}` }),
  },
  {
    route: 'POST /v1/rules/{rule_id}/test',
    access: 'customer_admin',
    ok: 200,
    call: async (w) => ({
      url: `/v1/rules/${await make.rule(w)}/test`,
      body: { payload: { skill_slug: 'payments' } },
    }),
  },
  {
    route: 'GET /v1/rules/{rule_id}/firings',
    access: 'customer_admin',
    ok: 200,
    call: async (w) => ({ url: `/v1/rules/${await firedRule(w)}/firings` }),
  },

  // Approvals and events
  {
    route: 'GET /internal/v1/instances/{instance_id}/approvals/pending',
    access: 'internal',
    ok: 200,
    call: (w) => ({ url: `${internal(w)}/approvals/pending?customer_id=${w.c1}` }),
  },
  {
    route: 'POST /internal/v1/instances/{instance_id}/approvals/request',
    access: 'internal',
    ok: 201,
    call: (w) => ({
      url: `${internal(w)}/approvals/request`,
      body: {
        customer_id: w.c1,
        skill_slug: 'payments',
        action: 'pay_contractor',
        serialized_intent: { amount: 20 },
      },
    }),
  },
  {
    route: 'POST /internal/v1/instances/{instance_id}/approvals/resolve',
    access: 'internal',
    ok: 200,
    call: async (w) => ({
      url: `${internal(w)}/approvals/resolve`,
      body: {
        approval_ref: await make.approvalRef(w),
        action: 'reject',
        pin_verified: true,
        resolver_role: 'customer',
      },
    }),
  },
  {
    route: 'GET /v1/approvals',
    access: 'any_member',
    ok: 200,
    tenantFree: true,
    call: () => ({ url: '/v1/approvals' }),
  },
  {
    route: 'POST /internal/v1/instances/{instance_id}/events',
    access: 'internal',
    ok: 200,
    call: (w) => ({
      url: `${internal(w)}/events`,
      body: { event: 'skill.invoked', customer_id: w.c1, payload: { skill_slug: 'payments' } },
    }),
  },
  {
    route: 'GET /internal/v1/instances/{instance_id}/events',
    access: 'internal',
    ok: 200,
    call: (w) => ({ url: `${internal(w)}/events` }),
  },
  {
    route: 'GET /v1/events',
    access: 'customer_admin',
    ok: 200,
    tenantFree: true,
    call: async (w) => {
      await loggedEvent(w); // one of customer 1's at least, for customer 2's admin not to see
      return { url: '/v1/events' };
    },
  },
  {
    route: 'GET /v1/events/{event_id}',
    access: 'customer_admin',
    ok: 200,
    call: async (w) => ({ url: `/v1/events/${await loggedEvent(w)}` }),
  },

  ...WEBHOOK_ROUTES,
  ...RUNTIME_LOOKUP_ROUTES,
  ...DIRECTORY_ROUTES,
  ...AUDIT_ROUTES,
];
