import type { MatrixRoute } from './routes';
import { World } from './world';

/** A fresh tenant-A instance, for the routes that delete or rename one. */
async function instance(w: World): Promise<string> {
  const id = await w.a.instance('Matrix instance');
  w.idsOfA.add(id);
  return id;
}

/** A fresh person of customer 1, for the routes that change or erase one. */
async function person(w: World): Promise<string> {
  const id = await w.a.person(w.c1, 'Matrix person');
  w.idsOfA.add(id);
  w.idsOfC1.add(id);
  return id;
}

const persons = (w: World) => `/v1/customers/${w.c1}/persons`;

/** Directory lifecycle: renames, instance deletion, key rotation and the platform's tenants. */
export const DIRECTORY_ROUTES: MatrixRoute[] = [
  {
    route: 'GET /v1/customers/{customer_id}/persons/{person_id}',
    access: 'tenant_admin',
    ok: 200,
    call: (w) => ({ url: `${persons(w)}/${w.p1}` }),
  },
  {
    route: 'PATCH /v1/customers/{customer_id}/persons/{person_id}',
    access: 'tenant_admin',
    ok: 200,
    call: async (w) => ({ url: `${persons(w)}/${await person(w)}`, body: { phone: null } }),
  },
  {
    route: 'DELETE /v1/customers/{customer_id}/persons/{person_id}',
    access: 'tenant_admin',
    ok: 204,
    call: async (w) => ({ url: `${persons(w)}/${await person(w)}` }),
  },
  {
    route: 'GET /platform/v1/tenants',
    access: 'platform',
    ok: 200,
    call: () => ({ url: '/platform/v1/tenants' }),
  },
  {
    route: 'PATCH /platform/v1/tenants/{tenant_id}',
    access: 'platform',
    ok: 200,
    call: (w) => ({ url: `/platform/v1/tenants/${w.a.tenantId}`, body: { status: 'suspended' } }),
  },
  {
    route: 'PATCH /v1/customers/{customer_id}',
    access: 'tenant_admin',
    ok: 200,
    call: (w) => ({ url: `/v1/customers/${w.c1}`, body: { name: 'A One' } }),
  },
  {
    route: 'PATCH /v1/instances/{instance_id}',
    access: 'tenant_admin',
    ok: 200,
    call: async (w) => ({ url: `/v1/instances/${await instance(w)}`, body: { name: 'Renamed' } }),
  },
  {
    route: 'DELETE /v1/instances/{instance_id}',
    access: 'tenant_admin',
    ok: 204,
    call: async (w) => ({ url: `/v1/instances/${await instance(w)}` }),
  },
  {
    route: 'POST /v1/instances/{instance_id}/proxy-keys/{key_id}/rotate',
    access: 'tenant_admin',
    ok: 201,
    call: async (w) => {
      const key = (await w.a.proxyKey(w.i1)).id;
      w.idsOfA.add(key);
      return { url: `/v1/instances/${w.i1}/proxy-keys/${key}/rotate`, body: { grace_hours: 1 } };
    },
  },
];
