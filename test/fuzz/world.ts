import { randomBytes } from 'node:crypto';
import { TEST_PLATFORM_KEY, TestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';
import { REFUSING_WEBHOOK_URL, settleBackground, settleWebhooks } from '../helpers/webhooks';

/** One request as the fuzzer sends it; `payload` is raw text so malformed JSON can be sent. */
export interface FuzzRequest {
  /** Which generator made it (for the report and for replaying by hand). */
  kind: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

export interface FuzzResponse {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  text: string;
}

/** Fastify's in-process inject: no socket, no supertest listen() per request. */
export async function send(t: TestApp, req: FuzzRequest): Promise<FuzzResponse> {
  const res = await t.app
    .getHttpAdapter()
    .getInstance()
    .inject({
      method: req.method as 'GET',
      url: req.url,
      headers: req.headers,
      ...(req.payload === undefined ? {} : { payload: req.payload }),
    });
  return { status: res.statusCode, headers: res.headers, text: res.body };
}

/**
 * A tenant with one of everything, built fresh for each route so a happy-path DELETE or revoke
 * on one route cannot starve the next. `ids` maps a path/body/query field name to the existing
 * rows the fuzzer may aim at; the credentials used to call are never among them (revoking
 * the caller's own key would turn the rest of the run into 401s).
 */
export interface World {
  tenantId: string;
  auth: { jwt: Record<string, string>; apiKey: Record<string, string>; proxy: string };
  ids: Record<string, string[]>;
  approvalRef: string;
}

export async function buildWorld(t: TestApp): Promise<World> {
  const s = await TenantSession.create(t, 'Fuzz tenant');
  const customer = await s.customer();
  const person = await s.person(customer);
  const instance = await s.instance();
  const proxy = await s.proxyKey(instance);
  const spareProxy = await s.proxyKey(instance);
  const apiKey = await s.apiKey('admin');
  const spareApiKey = await s.apiKey('member');
  const internal = `/internal/v1/instances/${instance}`;
  const post = async (url: string, body: object, headers = s.admin): Promise<{ id: string }> => {
    const res = await send(t, {
      kind: 'fixture',
      method: 'POST',
      url,
      headers: { ...headers, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`fixture ${url}: ${res.status} ${res.text}`);
    return JSON.parse(res.text) as { id: string };
  };
  // Two of what a happy path ends (revoke, rebind): the second keeps later cases reaching it.
  const bindings = [];
  const addresses: string[] = [];
  for (const channelType of ['whatsapp', 'sms']) {
    addresses.push(`+44770090${randomDigits(4)}`);
    bindings.push(
      await post(
        `${internal}/worker-bindings`,
        {
          channel_address: addresses[addresses.length - 1],
          channel_type: channelType,
          customer_id: customer,
          person_id: person,
        },
        proxy.headers,
      ),
    );
  }
  const channel = await post(`/v1/instances/${instance}/channels`, {
    channel_type: 'telegram',
    provider: 'telegram',
    external_identifier: `@fuzz_${randomBytes(6).toString('hex')}`,
  });
  // One active and one suspended, so both suspend and resume can succeed.
  const workflows = [];
  for (const workflowType of ['maintenance', 'rent_arrears']) {
    workflows.push(
      await post(
        `${internal}/workflows`,
        { customer_id: customer, workflow_type: workflowType, workflow_state: { step: 1 } },
        proxy.headers,
      ),
    );
  }
  const suspend = await send(t, {
    kind: 'fixture',
    method: 'POST',
    url: `${internal}/workflows/${workflows[1].id}/suspend`,
    headers: { ...proxy.headers, 'content-type': 'application/json' },
    payload: JSON.stringify({ step: 'await_tenant', payload: { asked: true } }),
  });
  if (suspend.status !== 200) throw new Error(`fixture suspend: ${suspend.status} ${suspend.text}`);
  const rule = await post('/v1/rules', {
    name: 'Fuzz rule',
    trigger_event: 'skill.invoked',
    actions: [{ type: 'block', reason: 'fuzz' }],
  });
  const approval = (await post(
    `${internal}/approvals/request`,
    {
      action: 'pay_contractor',
      skill_slug: 'payments',
      customer_id: customer,
      serialized_intent: { amount: 1 },
    },
    proxy.headers,
  )) as { id: string; approval_ref?: string };
  const webhookEndpoint = await post('/v1/webhook-endpoints', { url: REFUSING_WEBHOOK_URL });
  // Its delivery: the event of a binding made after the endpoint, attempted and failed.
  await post(
    `${internal}/worker-bindings`,
    {
      channel_address: `+44770091${randomDigits(4)}`,
      channel_type: 'whatsapp',
      customer_id: customer,
      person_id: person,
    },
    proxy.headers,
  );
  await settleWebhooks(t);
  const { rows: deliveries } = await t.raw.query<{ id: string }>(
    'SELECT id FROM webhook_deliveries WHERE endpoint_id = $1',
    [webhookEndpoint.id],
  );
  return {
    tenantId: s.tenantId,
    auth: { jwt: s.admin, apiKey: apiKey.headers, proxy: proxy.headers.Authorization },
    approvalRef: approval.approval_ref ?? 'APR-MISSING',
    ids: {
      tenant_id: [s.tenantId],
      customer_id: [customer],
      person_id: [person],
      approver_person_id: [person],
      resolver_person_id: [person],
      approver_id: [person],
      instance_id: [instance],
      key_id: [spareProxy.id, spareApiKey.id],
      binding_id: bindings.map((b) => b.id),
      address: addresses, // the lookup's: live bindings to find
      endpoint_id: [channel.id, webhookEndpoint.id],
      delivery_id: deliveries.map((d) => d.id),
      workflow_id: workflows.map((w) => w.id),
      rule_id: [rule.id],
    },
  };
}

export const platformHeaders = { 'X-Platform-Key': TEST_PLATFORM_KEY };

function randomDigits(n: number): string {
  return Array.from(randomBytes(n), (b) => String(b % 10)).join('');
}

/**
 * A cheap fingerprint of every committed row in the file's database: per table, the row count
 * and the highest `xmin`. Any committed INSERT or UPDATE stamps its rows with a new, higher
 * transaction id, and a DELETE lowers the count, so a refused request that wrote anything
 * changes it, while row locks (xmax) and rolled-back work (invisible) do not. It reads through
 * the superuser pool, so RLS hides nothing, and no other writer shares this database (the
 * timed background jobs are off in tests) but the work that follows events moments after their
 * commit: numbering, rules on raised events, webhooks. It is run to its end first
 * (settleBackground), so its work on an earlier case's events is not taken for a write of this
 * one. One round trip per case.
 */
export async function fingerprinter(t: TestApp): Promise<() => Promise<string>> {
  const { rows } = await t.raw.query<{ name: string }>(
    `SELECT quote_ident(table_name) AS name FROM information_schema.tables
     WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'migrations'`,
  );
  const sql = rows
    .map(
      ({ name }) =>
        `SELECT '${name}' AS t, count(*)::text || ':' || coalesce(max(xmin::text::bigint), 0) AS f FROM ${name}`,
    )
    .join(' UNION ALL ');
  return async () => {
    await settleBackground(t);
    // Named, so PostgreSQL plans the union once rather than on every case.
    const res = await t.raw.query<{ t: string; f: string }>({
      name: 'fuzz-fingerprint',
      text: sql,
    });
    return res.rows
      .map((r) => `${r.t}=${r.f}`)
      .sort()
      .join(' ');
  };
}
