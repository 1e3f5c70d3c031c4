import { TestApp, startTestApp } from './app';
import { TenantSession } from './factories';

/** Tenant A with two customers and an instance whose proxy key calls the workflow routes. */
export interface WorkflowWorld {
  t: TestApp;
  a: TenantSession;
  customer: string;
  otherCustomer: string;
  instance: string;
  runtime: Record<string, string>;
  /** The instance's workflow routes. */
  base: string;
}

/** What every workflow test file starts from; the caller closes `t` when done. */
export async function workflowWorld(): Promise<WorkflowWorld> {
  const t = await startTestApp();
  const a = await TenantSession.create(t, 'A');
  const customer = await a.customer();
  const otherCustomer = await a.customer();
  const instance = await a.instance();
  const runtime = (await a.proxyKey(instance)).headers;
  return {
    t,
    a,
    customer,
    otherCustomer,
    instance,
    runtime,
    base: `/internal/v1/instances/${instance}/workflows`,
  };
}

/** The calls the workflow tests share, on the world `world()` returns once it is built. */
export function workflowCalls(world: () => WorkflowWorld) {
  return {
    /** Creates a rent_arrears workflow for the first customer; expects 201. */
    create: async (body: object = {}) => {
      const { t, base, runtime, customer } = world();
      const res = await t
        .http()
        .post(base)
        .set(runtime)
        .send({ customer_id: customer, workflow_type: 'rent_arrears', ...body });
      expect(res.status).toBe(201);
      return res.body;
    },
    advance: (id: string, body: object) => {
      const { t, base, runtime } = world();
      return t
        .http()
        .patch(`${base}/${id}`)
        .set(runtime)
        .send({ action: 'noted', ...body });
    },
    /** The row as stored, read past RLS. */
    stored: async (id: string) => {
      const { t } = world();
      return (await t.raw.query('SELECT * FROM workflows WHERE id = $1', [id])).rows[0];
    },
  };
}
