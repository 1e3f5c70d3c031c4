import { REFUSING_WEBHOOK_URL, settleWebhooks } from '../helpers/webhooks';
import type { MatrixRoute } from './routes';
import { World, make } from './world';

const URL = REFUSING_WEBHOOK_URL;

async function webhookEndpoint(w: World): Promise<string> {
  // Only the newest is needed, and a tenant may have only so many.
  await w.t.raw.query('DELETE FROM webhook_endpoints WHERE tenant_id = $1', [w.a.tenantId]);
  const res = await w.t.http().post('/v1/webhook-endpoints').set(w.a.admin).send({ url: URL });
  if (res.status !== 201) throw new Error(`endpoint: ${res.status} ${JSON.stringify(res.body)}`);
  w.idsOfA.add(res.body.id);
  return res.body.id;
}

/** An endpoint with one delivery (of a fresh binding's event), attempted and failed. */
async function delivered(w: World): Promise<{ endpoint: string; delivery: string }> {
  const endpoint = await webhookEndpoint(w);
  await make.binding(w);
  await settleWebhooks(w.t);
  const { rows } = await w.t.raw.query<{ id: string }>(
    'SELECT id FROM webhook_deliveries WHERE endpoint_id = $1',
    [endpoint],
  );
  if (rows.length !== 1) throw new Error(`${rows.length} deliveries, not one`);
  w.idsOfA.add(rows[0].id);
  return { endpoint, delivery: rows[0].id };
}

const base = '/v1/webhook-endpoints';

export const WEBHOOK_ROUTES: MatrixRoute[] = [
  {
    route: 'POST /v1/webhook-endpoints',
    access: 'tenant_admin',
    ok: 201,
    tenantFree: true,
    call: () => ({ url: base, body: { url: URL } }),
  },
  {
    route: 'GET /v1/webhook-endpoints',
    access: 'tenant_admin',
    ok: 200,
    tenantFree: true,
    call: async (w) => {
      await webhookEndpoint(w);
      return { url: base };
    },
  },
  {
    route: 'GET /v1/webhook-endpoints/{endpoint_id}',
    access: 'tenant_admin',
    ok: 200,
    call: async (w) => ({ url: `${base}/${await webhookEndpoint(w)}` }),
  },
  {
    route: 'PATCH /v1/webhook-endpoints/{endpoint_id}',
    access: 'tenant_admin',
    ok: 200,
    call: async (w) => ({
      url: `${base}/${await webhookEndpoint(w)}`,
      body: { description: 'patched', status: 'disabled' },
    }),
  },
  {
    route: 'DELETE /v1/webhook-endpoints/{endpoint_id}',
    access: 'tenant_admin',
    ok: 204,
    call: async (w) => ({ url: `${base}/${await webhookEndpoint(w)}` }),
  },
  {
    route: 'POST /v1/webhook-endpoints/{endpoint_id}/rotate-secret',
    access: 'tenant_admin',
    ok: 200,
    call: async (w) => ({ url: `${base}/${await webhookEndpoint(w)}/rotate-secret` }),
  },
  {
    route: 'GET /v1/webhook-endpoints/{endpoint_id}/deliveries',
    access: 'tenant_admin',
    ok: 200,
    call: async (w) => ({ url: `${base}/${(await delivered(w)).endpoint}/deliveries` }),
  },
  {
    route: 'POST /v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/retry',
    access: 'tenant_admin',
    ok: 202,
    call: async (w) => {
      const { endpoint, delivery } = await delivered(w);
      return { url: `${base}/${endpoint}/deliveries/${delivery}/retry` };
    },
  },
  {
    route: 'POST /v1/webhook-endpoints/{endpoint_id}/replay',
    access: 'tenant_admin',
    ok: 202,
    call: async (w) => ({
      url: `${base}/${(await delivered(w)).endpoint}/replay`,
      body: { since: new Date(Date.now() - 60_000).toISOString() },
    }),
  },
];
