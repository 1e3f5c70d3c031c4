import { TestApp, startTestApp } from '../helpers/app';
import { MATRIX, MatrixRoute } from '../matrix/routes';
import { QUIET_WEBHOOK_ENV, settleBackground } from '../helpers/webhooks';
import { CALLERS, Caller, World, buildWorld, make } from '../matrix/world';

const OUTSIDE_A: Caller[] = ['tenant_admin_b', 'proxy_key_b_instance', 'no_credential'];
const NOT_DASHBOARD: Caller[] = [
  'revoked_api_key_a',
  'proxy_key_a_instance',
  'proxy_key_a_other_instance',
  'proxy_key_b_instance',
  'no_credential',
];

/** What the access class of a route grants a caller (who may call which route, by credential). */
export function expectedStatus(r: MatrixRoute, caller: Caller): number {
  const exception = r.except?.[caller];
  if (exception !== undefined) return exception;
  switch (r.access) {
    case 'public':
      return r.ok;
    case 'platform':
      return 401;
    case 'internal':
      if (caller === 'proxy_key_a_instance') return r.ok;
      // A proxy key is only good on its own instance's path (another tenant's: same answer).
      if (caller === 'proxy_key_a_other_instance' || caller === 'proxy_key_b_instance') return 403;
      return 401;
  }
  if (NOT_DASHBOARD.includes(caller)) return 401;
  if (caller === 'tenant_admin_b') return r.tenantFree ? r.ok : 404;
  if (caller === 'tenant_admin_a' || caller === 'api_key_a') return r.ok;
  if (r.access === 'tenant_admin') return 403;
  if (r.access === 'any_member')
    return caller === 'customer_admin_a2' && !r.tenantFree ? 403 : r.ok;
  // customer_admin: its own customer's rows; lists are narrowed to its customer.
  if (caller === 'customer_admin_a1') return r.ok;
  if (caller === 'customer_admin_a2' && r.tenantFree) return r.ok;
  return 403;
}

/** One query hashing every tenant-owned table's rows per tenant; the schema is read once. */
async function fingerprintQuery(t: TestApp): Promise<string> {
  const { rows: tables } = await t.raw.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.columns
      WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY table_name`,
  );
  // An API key's last use is the credential's bookkeeping, stamped by any successful call
  // (a GET included) at most once a minute: not a change the call made to the tenant's data.
  const row = (name: string) => (name === 'api_keys' ? `(to_jsonb(x) - 'last_used_at')` : 'x');
  const parts = tables.map(
    ({ table_name: name }) =>
      `SELECT tenant_id::text AS tenant, '${name}' AS tbl, md5(string_agg(${row(name)}::text, '|' ORDER BY ${row(name)}::text)) AS h
         FROM ${name} x GROUP BY tenant_id`,
  );
  parts.push(`SELECT id::text, 'tenants', md5(x::text) FROM tenants x`);
  return parts.join(' UNION ALL ');
}

/**
 * Every tenant-owned table's rows, hashed per tenant: what a call may have changed. The app's
 * background work (numbering, rules on raised events, webhooks) is run to its end first, so its
 * work on the events a call's setup raised is not taken for a write of the call.
 */
async function fingerprint(t: TestApp, sql: string): Promise<Map<string, string>> {
  await settleBackground(t);
  const { rows } = await t.raw.query<{ tenant: string; tbl: string; h: string }>(sql);
  const byTenant = new Map<string, string>();
  for (const row of rows.sort((p, q) => (p.tbl < q.tbl ? -1 : 1))) {
    byTenant.set(row.tenant, `${byTenant.get(row.tenant) ?? ''}${row.tbl}:${row.h};`);
  }
  return byTenant;
}

const changedTenants = (before: Map<string, string>, after: Map<string, string>) =>
  [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));

describe('isolation matrix: every route × every caller', () => {
  let t: TestApp;
  let w: World;
  let fingerprintSql: string;
  let cells = 0;

  beforeAll(async () => {
    t = await startTestApp(QUIET_WEBHOOK_ENV);
    w = await buildWorld(t);
    fingerprintSql = await fingerprintQuery(t);
    // Customer 1's rows in every list from the start, for the customer-scoping check.
    await make.rule(w);
    await make.workflow(w);
    await make.suspendedWorkflow(w);
    await make.approvalRef(w);
    await make.binding(w);
  }, 60_000);
  afterAll(() => t.close());

  it.each(MATRIX.map((r) => [r.route, r] as const))(
    '%s',
    async (_name, r) => {
      const [method, path] = r.route.split(' ');
      const mismatches: string[] = [];
      for (const caller of CALLERS) {
        cells++;
        const call = await r.call(w);
        const before = await fingerprint(t, fingerprintSql);
        const req = t
          .http()
          [method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete'](call.url)
          .set(w.headers[caller]);
        const res = call.body === undefined ? await req : await req.send(call.body as object);
        const after = await fingerprint(t, fingerprintSql);
        const want = expectedStatus(r, caller);
        const where = `${method} ${path} as ${caller}`;
        if (res.status !== want) mismatches.push(`${where}: ${res.status}, expected ${want}`);

        const changed = changedTenants(before, after);
        // A call writes in its caller's tenant or nowhere.
        const own = ['tenant_admin_b', 'proxy_key_b_instance'].includes(caller)
          ? w.b.tenantId
          : w.a.tenantId;
        expect([where, changed.filter((id) => id !== own)]).toEqual([where, []]);
        if (res.status >= 400) {
          expect([where, res.body]).toEqual([where, { detail: expect.anything() }]);
          expect([where, changed]).toEqual([where, []]); // a refusal writes nothing
        } else if (method === 'GET') {
          expect([where, changed]).toEqual([where, []]);
        }
        if (caller === 'customer_admin_a2' && res.status < 300) {
          // Customer scoping is the service's, not RLS's: nothing of customer 1 is shown.
          const text = JSON.stringify(res.body ?? '');
          const leaked = [...w.idsOfC1].filter((id) => text.includes(id));
          expect([where, leaked]).toEqual([where, []]);
        }
        if (OUTSIDE_A.includes(caller)) {
          // Nothing of tenant A is read or written by a caller outside it.
          expect([where, changed.includes(w.a.tenantId)]).toEqual([where, false]);
          const text = JSON.stringify(res.body ?? '');
          const leaked = [...w.idsOfA].filter((id) => text.includes(id));
          expect([where, leaked]).toEqual([where, []]);
        }
      }
      expect(mismatches).toEqual([]);
    },
    60_000,
  );

  afterAll(() => {
    // The figure the README quotes.
    process.stdout.write(
      `isolation matrix: ${MATRIX.length} routes × ${CALLERS.length} callers = ${cells} calls\n`,
    );
  });
});
