import { TestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

/** Who calls, in the isolation matrix. */
export const CALLERS = [
  'tenant_admin_a',
  'customer_admin_a1',
  'customer_admin_a2',
  'member_a1',
  'tenant_admin_b',
  'api_key_a',
  'revoked_api_key_a',
  'proxy_key_a_instance',
  'proxy_key_a_other_instance',
  'proxy_key_b_instance',
  'no_credential',
] as const;
export type Caller = (typeof CALLERS)[number];

/** Two tenants, built through the API: A with two customers and two instances, B with one. */
export interface World {
  t: TestApp;
  a: TenantSession;
  b: TenantSession;
  c1: string;
  c2: string;
  p1: string;
  i1: string;
  i2: string;
  iB: string;
  headers: Record<Caller, Record<string, string>>;
  /** Every id of tenant A's fixtures: none may show in an answer to a caller outside A. */
  idsOfA: Set<string>;
  /** Ids of customer 1's rows: none may show in an answer to customer 2's admin. */
  idsOfC1: Set<string>;
}

export async function buildWorld(t: TestApp): Promise<World> {
  const a = await TenantSession.create(t, 'Tenant A');
  const b = await TenantSession.create(t, 'Tenant B');
  const c1 = await a.customer('A One');
  const c2 = await a.customer('A Two');
  const p1 = await a.person(c1, 'Ada');
  const i1 = await a.instance('A main');
  const i2 = await a.instance('A spare');
  const iB = await b.instance('B main');
  const revoked = await a.apiKey('admin');
  await t.http().delete(`/v1/api-keys/${revoked.id}`).set(a.admin).expect(204);
  const headers: Record<Caller, Record<string, string>> = {
    tenant_admin_a: a.admin,
    customer_admin_a1: a.customerAdmin(c1),
    customer_admin_a2: a.customerAdmin(c2),
    member_a1: a.member(c1),
    tenant_admin_b: b.admin,
    api_key_a: (await a.apiKey('admin')).headers,
    revoked_api_key_a: revoked.headers,
    proxy_key_a_instance: (await a.proxyKey(i1)).headers,
    proxy_key_a_other_instance: (await a.proxyKey(i2)).headers,
    proxy_key_b_instance: (await b.proxyKey(iB)).headers,
    no_credential: {},
  };
  return {
    t,
    a,
    b,
    c1,
    c2,
    p1,
    i1,
    i2,
    iB,
    headers,
    idsOfA: new Set([a.tenantId, c1, c2, p1, i1, i2]),
    idsOfC1: new Set([c1, p1]),
  };
}

let serial = 0;
/** A phone number no other call has used. */
export const freshPhone = () => `+4477009${String(++serial).padStart(5, '0')}`;

async function expectCreated(
  w: World,
  method: 'post' | 'patch',
  path: string,
  body: object,
  headers: Record<string, string>,
  ofCustomer1 = true,
): Promise<Record<string, unknown>> {
  const res = await w.t.http()[method](path).set(headers).send(body);
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
  const created = res.body as Record<string, unknown>;
  if (typeof created.id === 'string') {
    w.idsOfA.add(created.id);
    if (ofCustomer1) w.idsOfC1.add(created.id);
  }
  return created;
}

const runtime = (w: World) => w.headers.proxy_key_a_instance;

/** Fresh tenant-A resources for routes that change or consume what they act on. */
export const make = {
  binding: async (w: World) =>
    (
      await expectCreated(
        w,
        'post',
        `/internal/v1/instances/${w.i1}/worker-bindings`,
        {
          customer_id: w.c1,
          person_id: w.p1,
          channel_type: 'whatsapp',
          channel_address: freshPhone(),
        },
        runtime(w),
      )
    ).id as string,
  endpoint: async (w: World) =>
    (
      await expectCreated(
        w,
        'post',
        `/v1/instances/${w.i1}/channels`,
        { channel_type: 'whatsapp', provider: 'twilio', external_identifier: freshPhone() },
        w.a.admin,
        false, // an instance's, not a customer's
      )
    ).id as string,
  workflow: async (w: World) =>
    (
      await expectCreated(
        w,
        'post',
        `/internal/v1/instances/${w.i1}/workflows`,
        { customer_id: w.c1, workflow_type: 'rent_arrears' },
        runtime(w),
      )
    ).id as string,
  suspendedWorkflow: async (w: World) => {
    const id = await make.workflow(w);
    await expectCreated(
      w,
      'post',
      `/internal/v1/instances/${w.i1}/workflows/${id}/suspend`,
      { step: 'wait' },
      runtime(w),
    );
    return id;
  },
  rule: async (w: World) =>
    (
      await expectCreated(
        w,
        'post',
        '/v1/rules',
        {
          name: 'Matrix rule',
          customer_id: w.c1,
          trigger_event: 'skill.invoked',
          conditions: [{ field: 'skill_slug', operator: 'eq', value: 'payments' }],
          actions: [{ type: 'block', reason: 'matrix' }],
        },
        w.a.admin,
      )
    ).id as string,
  approvalRef: async (w: World) =>
    (
      await expectCreated(
        w,
        'post',
        `/internal/v1/instances/${w.i1}/approvals/request`,
        {
          customer_id: w.c1,
          skill_slug: 'payments',
          action: 'pay_contractor',
          serialized_intent: { amount: 10 },
        },
        runtime(w),
      )
    ).approval_ref as string,
  proxyKey: async (w: World) => (await w.a.proxyKey(w.i1)).id,
  apiKey: async (w: World) => (await w.a.apiKey('member')).id,
};
