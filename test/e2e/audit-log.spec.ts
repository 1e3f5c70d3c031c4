import { createHash } from 'node:crypto';
import { TEST_PLATFORM_KEY, TestApp, asRuntimeRole, startTestApp } from '../helpers/app';
import { routeDeclarations } from '../helpers/route-handlers';
import { token } from '../helpers/factories';
import { QUIET_WEBHOOK_ENV, REFUSING_WEBHOOK_URL, settleWebhooks } from '../helpers/webhooks';

type Headers = Record<string, string>;
type Method = 'post' | 'patch' | 'delete';
/** What the writes answer that the sequence reads on. */
interface Answer {
  id: string;
  key: string;
  secret: string;
}

interface Entry {
  id: string;
  at: string;
  actor: { kind: string; id: string | null };
  action: string;
  target_type: string;
  target_id: string;
  request_id: string | null;
  changes: Record<string, [unknown, unknown]>;
}

const PLATFORM = { 'X-Platform-Key': TEST_PLATFORM_KEY };
const R = '[redacted]';
const bearer = (jwt: string) => ({ Authorization: `Bearer ${jwt}` });

/** Every entry of the tenant, oldest first, read through the route page by page. */
async function allEntries(t: TestApp, admin: Headers, limit = 200): Promise<Entry[]> {
  const entries: Entry[] = [];
  let after: string | null = null;
  for (;;) {
    const query: string = `limit=${limit}${after ? `&after=${after}` : ''}`;
    const page = await t.http().get(`/v1/audit-log?${query}`).set(admin).expect(200);
    entries.push(...(page.body.entries as Entry[]));
    if (!page.body.has_more) break;
    after = page.body.next_after as string;
  }
  return entries.reverse();
}

describe('audit log', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(QUIET_WEBHOOK_ENV);
  });
  afterAll(() => t.close());

  describe('a sequence of dashboard and platform writes', () => {
    /** What each write should have recorded, in order: [action, target id, actor kind]. */
    const expected: [string, string, string][] = [];
    /** The route templates driven to success: every audited route must be among them. */
    const exercised = new Set<string>();
    /** Secrets and personal data the writes carried: none may reach an entry. */
    const secrets: string[] = [];
    const requestIds = new Map<string, string>();
    let entries: Entry[];
    let adminKey: { id: string; headers: Headers };

    async function write(
      route: string,
      method: Method,
      path: string,
      headers: Headers,
      body?: object,
    ): Promise<Answer> {
      const req = t.http()[method](path).set(headers);
      const res = await (body === undefined ? req : req.send(body));
      if (res.status >= 300) throw new Error(`${route}: ${res.status} ${JSON.stringify(res.body)}`);
      exercised.add(route);
      requestIds.set(route, res.headers['x-request-id']);
      return res.body as Answer;
    }

    /** A refused write: its status, and not one entry more. */
    async function refused(
      method: Method,
      path: string,
      headers: Headers,
      status: number,
      body?: object,
    ) {
      const count = async () =>
        (await t.raw.query('SELECT count(*)::int AS n FROM audit_log')).rows[0].n as number;
      const before = await count();
      const req = t.http()[method](path).set(headers);
      await (body === undefined ? req : req.send(body)).expect(status);
      expect(await count()).toBe(before);
    }

    beforeAll(async () => {
      const created = await write(
        'POST /platform/v1/tenants',
        'post',
        '/platform/v1/tenants',
        PLATFORM,
        { name: 'Audited' },
      );
      const tenant = created.id;
      expected.push(['tenant.created', tenant, 'platform']);
      const admin = bearer(token(tenant, 'admin'));
      const member = bearer(token(tenant, 'member'));

      // Directory
      const c = (
        await write('POST /v1/customers', 'post', '/v1/customers', admin, { name: 'Harbour' })
      ).id;
      expected.push(['customer.created', c, 'user']);
      await refused('post', '/v1/customers', admin, 422, { name: '' });
      await write('PATCH /v1/customers/{customer_id}', 'patch', `/v1/customers/${c}`, admin, {
        name: 'Harbour Lettings',
      });
      expected.push(['customer.updated', c, 'user']);
      const person = await write(
        'POST /v1/customers/{customer_id}/persons',
        'post',
        `/v1/customers/${c}/persons`,
        admin,
        {
          name: 'Ada Lovelace',
          email: 'ada@example.com',
          phone: '+447700900001',
        },
      );
      secrets.push('Ada Lovelace', 'ada@example.com', '+447700900001');
      expected.push(['person.created', person.id, 'user']);
      await write(
        'PATCH /v1/customers/{customer_id}/persons/{person_id}',
        'patch',
        `/v1/customers/${c}/persons/${person.id}`,
        admin,
        {
          email: 'ada.l@example.com',
        },
      );
      secrets.push('ada.l@example.com');
      expected.push(['person.updated', person.id, 'user']);
      const i = (
        await write('POST /v1/instances', 'post', '/v1/instances', admin, { name: 'Front desk' })
      ).id;
      expected.push(['instance.created', i, 'user']);
      await write('PATCH /v1/instances/{instance_id}', 'patch', `/v1/instances/${i}`, admin, {
        name: 'Front desk 2',
      });
      expected.push(['instance.updated', i, 'user']);

      // Keys
      const pk = await write(
        'POST /v1/instances/{instance_id}/proxy-keys',
        'post',
        `/v1/instances/${i}/proxy-keys`,
        admin,
      );
      secrets.push(pk.key);
      expected.push(['proxy_key.created', pk.id, 'user']);
      const rotated = await write(
        'POST /v1/instances/{instance_id}/proxy-keys/{key_id}/rotate',
        'post',
        `/v1/instances/${i}/proxy-keys/${pk.id}/rotate`,
        admin,
        { grace_hours: 1 },
      );
      secrets.push(rotated.key);
      expected.push(
        ['proxy_key.rotated', pk.id, 'user'],
        ['proxy_key.created', rotated.id, 'user'],
      );
      await refused('post', `/v1/instances/${i}/proxy-keys/${pk.id}/rotate`, admin, 409, {});
      const spare = await write(
        'POST /v1/instances/{instance_id}/proxy-keys',
        'post',
        `/v1/instances/${i}/proxy-keys`,
        admin,
      );
      secrets.push(spare.key);
      expected.push(['proxy_key.created', spare.id, 'user']);
      await write(
        'DELETE /v1/instances/{instance_id}/proxy-keys/{key_id}',
        'delete',
        `/v1/instances/${i}/proxy-keys/${spare.id}`,
        admin,
      );
      expected.push(['proxy_key.revoked', spare.id, 'user']);
      const key = await write('POST /v1/api-keys', 'post', '/v1/api-keys', admin, {
        name: 'ci',
        role: 'admin',
      });
      secrets.push(key.key);
      expected.push(['api_key.created', key.id, 'user']);
      adminKey = { id: key.id, headers: { 'X-Api-Key': key.key } };
      await refused('post', '/v1/api-keys', admin, 422, {
        name: 'x',
        role: 'admin',
        customer_id: '00000000-0000-4000-8000-000000000000',
      });

      // Rules, written with the API key: the actor is the key
      const k = adminKey.headers;
      const rule = (
        await write('POST /v1/rules', 'post', '/v1/rules', k, {
          name: 'Payments need approval',
          trigger_event: 'skill.invoked',
          conditions: [{ field: 'skill_slug', operator: 'eq', value: 'payments' }],
          actions: [{ type: 'block', reason: 'audit' }],
        })
      ).id;
      expected.push(['rule.created', rule, 'api_key']);
      await refused('post', '/v1/rules', member, 403, {
        name: 'x',
        trigger_event: 'skill.invoked',
        actions: [],
      });
      await write('PATCH /v1/rules/{rule_id}', 'patch', `/v1/rules/${rule}`, k, {
        priority: 20,
        is_active: false,
      });
      expected.push(['rule.updated', rule, 'api_key']);
      await refused('patch', `/v1/rules/${rule}`, k, 422, { trigger_event: 'no.such.trigger' });
      await t
        .http()
        .post(`/v1/rules/${rule}/test`)
        .set(k)
        .send({ payload: { skill_slug: 'payments' } })
        .expect(200);
      await write('DELETE /v1/rules/{rule_id}', 'delete', `/v1/rules/${rule}`, k);
      expected.push(['rule.deleted', rule, 'api_key']);

      // Channels
      const ep = (
        await write(
          'POST /v1/instances/{instance_id}/channels',
          'post',
          `/v1/instances/${i}/channels`,
          admin,
          {
            channel_type: 'sms',
            provider: 'twilio',
            external_identifier: '+447700900111',
            webhook_secret: 'channel-secret-8c1f7a',
            config: { token: 'config-token-77aa' },
          },
        )
      ).id;
      secrets.push('channel-secret-8c1f7a', 'config-token-77aa');
      expected.push(['channel_endpoint.created', ep, 'user']);
      await write(
        'PATCH /v1/instances/{instance_id}/channels/{endpoint_id}',
        'patch',
        `/v1/instances/${i}/channels/${ep}`,
        admin,
        { enabled: false },
      );
      expected.push(['channel_endpoint.updated', ep, 'user']);
      await write(
        'DELETE /v1/instances/{instance_id}/channels/{endpoint_id}',
        'delete',
        `/v1/instances/${i}/channels/${ep}`,
        admin,
      );
      expected.push(['channel_endpoint.deleted', ep, 'user']);

      // Worker bindings
      const base = `/v1/customers/${c}/worker-bindings`;
      const b1 = (
        await write('POST /v1/customers/{customer_id}/worker-bindings', 'post', base, admin, {
          customer_id: c,
          person_id: person.id,
          channel_type: 'whatsapp',
          channel_address: '+447700900222',
        })
      ).id;
      secrets.push('+447700900222');
      expected.push(['binding.created', b1, 'user']);
      const b2 = (
        await write(
          'POST /v1/customers/{customer_id}/worker-bindings/{binding_id}/rebind',
          'post',
          `${base}/${b1}/rebind`,
          admin,
          {
            new_address: '+447700900333',
          },
        )
      ).id;
      secrets.push('+447700900333');
      expected.push(['binding.revoked', b1, 'user'], ['binding.created', b2, 'user']);
      await write(
        'POST /v1/customers/{customer_id}/worker-bindings/{binding_id}/revoke',
        'post',
        `${base}/${b2}/revoke`,
        admin,
      );
      expected.push(['binding.revoked', b2, 'user']);
      await refused('post', `${base}/${b2}/revoke`, admin, 409);

      // Workflows: the runtime's writes are not audited; the dashboard's are
      const runtime = { Authorization: `Bearer ${rotated.key}` };
      const wf = await t
        .http()
        .post(`/internal/v1/instances/${i}/workflows`)
        .set(runtime)
        .send({ customer_id: c, workflow_type: 'rent_arrears' })
        .expect(201);
      const w = wf.body.id as string;
      await write(
        'POST /v1/workflows/{workflow_id}/suspend',
        'post',
        `/v1/workflows/${w}/suspend`,
        admin,
        { step: 'wait', payload: { note: 'x' } },
      );
      expected.push(['workflow.suspended', w, 'user']);
      await write(
        'POST /v1/workflows/{workflow_id}/resume',
        'post',
        `/v1/workflows/${w}/resume`,
        admin,
        {},
      );
      expected.push(['workflow.resumed', w, 'user']);
      await write(
        'POST /v1/workflows/{workflow_id}/abort',
        'post',
        `/v1/workflows/${w}/abort`,
        admin,
      );
      expected.push(['workflow.aborted', w, 'user']);
      await refused('post', `/v1/workflows/${w}/abort`, admin, 409);

      // Webhook endpoints
      const hook = await write(
        'POST /v1/webhook-endpoints',
        'post',
        '/v1/webhook-endpoints',
        admin,
        { url: REFUSING_WEBHOOK_URL },
      );
      secrets.push(hook.secret);
      const h = hook.id;
      expected.push(['webhook_endpoint.created', h, 'user']);
      await write(
        'PATCH /v1/webhook-endpoints/{endpoint_id}',
        'patch',
        `/v1/webhook-endpoints/${h}`,
        admin,
        { description: 'runtime' },
      );
      expected.push(['webhook_endpoint.updated', h, 'user']);
      const rotatedHook = await write(
        'POST /v1/webhook-endpoints/{endpoint_id}/rotate-secret',
        'post',
        `/v1/webhook-endpoints/${h}/rotate-secret`,
        admin,
      );
      secrets.push(rotatedHook.secret);
      expected.push(['webhook_endpoint.secret_rotated', h, 'user']);
      await t
        .http()
        .post(`/internal/v1/instances/${i}/workflows`)
        .set(runtime)
        .send({ customer_id: c, workflow_type: 'rent_arrears' })
        .expect(201);
      await settleWebhooks(t);
      const {
        rows: [delivery],
      } = await t.raw.query<{ id: string }>(
        'SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 LIMIT 1',
        [h],
      );
      await write(
        'POST /v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/retry',
        'post',
        `/v1/webhook-endpoints/${h}/deliveries/${delivery.id}/retry`,
        admin,
      );
      expected.push(['webhook_delivery.retried', delivery.id, 'user']);
      await write(
        'POST /v1/webhook-endpoints/{endpoint_id}/replay',
        'post',
        `/v1/webhook-endpoints/${h}/replay`,
        admin,
        {
          since: new Date(Date.now() - 3600_000).toISOString(),
        },
      );
      expected.push(['webhook_endpoint.replayed', h, 'user']);
      await settleWebhooks(t);
      await write(
        'DELETE /v1/webhook-endpoints/{endpoint_id}',
        'delete',
        `/v1/webhook-endpoints/${h}`,
        admin,
      );
      expected.push(['webhook_endpoint.deleted', h, 'user']);

      // Erasure, retirement, revocation, suspension
      await write(
        'DELETE /v1/customers/{customer_id}/persons/{person_id}',
        'delete',
        `/v1/customers/${c}/persons/${person.id}`,
        admin,
      );
      expected.push(['person.erased', person.id, 'user']);
      await write('DELETE /v1/instances/{instance_id}', 'delete', `/v1/instances/${i}`, admin);
      // Its keys still working (the rotated one in its grace, and its successor) go with it.
      const revokedWithIt = [pk.id, rotated.id].sort();
      expected.push(
        ['instance.deleted', i, 'user'],
        ...revokedWithIt.map((id): [string, string, string] => ['proxy_key.revoked', id, 'user']),
      );
      await refused('delete', `/v1/instances/${i}`, admin, 404);
      await write('DELETE /v1/api-keys/{key_id}', 'delete', `/v1/api-keys/${key.id}`, admin);
      expected.push(['api_key.revoked', key.id, 'user']);
      await write(
        'PATCH /platform/v1/tenants/{tenant_id}',
        'patch',
        `/platform/v1/tenants/${tenant}`,
        PLATFORM,
        { status: 'suspended' },
      );
      expected.push(['tenant.updated', tenant, 'platform']);
      await refused('post', '/v1/customers', admin, 403, { name: 'While suspended' });
      await write(
        'PATCH /platform/v1/tenants/{tenant_id}',
        'patch',
        `/platform/v1/tenants/${tenant}`,
        PLATFORM,
        { status: 'active' },
      );
      expected.push(['tenant.updated', tenant, 'platform']);

      entries = await allEntries(t, admin, 7);
    });

    it('holds exactly the writes made, in order, with their actors', () => {
      expect(entries.map((e) => [e.action, e.target_id, e.actor.kind])).toEqual(expected);
      for (const e of entries) expect(e.target_type).toBe(e.action.split('.')[0]);
      const byKey = entries.filter((e) => e.actor.kind === 'api_key');
      expect(new Set(byKey.map((e) => e.actor.id))).toEqual(new Set([adminKey.id]));
      expect(
        entries.filter((e) => e.actor.kind === 'platform').every((e) => e.actor.id === null),
      ).toBe(true);
      const users = new Set(entries.filter((e) => e.actor.kind === 'user').map((e) => e.actor.id));
      expect(users.size).toBe(1); // the one admin JWT's `sub`
    });

    it('names each request as the response did (X-Request-Id)', () => {
      const at = (action: string) => entries.find((e) => e.action === action)!.request_id;
      expect(at('rule.deleted')).toBe(requestIds.get('DELETE /v1/rules/{rule_id}'));
      expect(at('customer.created')).toBe(requestIds.get('POST /v1/customers'));
      expect(at('tenant.created')).toBe(requestIds.get('POST /platform/v1/tenants'));
      // One request, two entries: the rotation and the key it issued.
      const rotation = entries.filter(
        (e) =>
          e.request_id ===
          requestIds.get('POST /v1/instances/{instance_id}/proxy-keys/{key_id}/rotate'),
      );
      expect(rotation.map((e) => e.action)).toEqual(['proxy_key.rotated', 'proxy_key.created']);
    });

    it('records what changed, field by field', () => {
      const of = (action: string, n = 0) => entries.filter((e) => e.action === action)[n].changes;
      expect(of('tenant.created')).toEqual({ name: [null, 'Audited'], status: [null, 'active'] });
      expect(of('customer.updated')).toEqual({ name: ['Harbour', 'Harbour Lettings'] });
      expect(of('rule.updated')).toEqual({ priority: [0, 20], is_active: [true, false] });
      expect(of('rule.deleted')).toMatchObject({
        name: ['Payments need approval', null],
        priority: [20, null],
      });
      expect(of('channel_endpoint.updated')).toEqual({ enabled: [true, false] });
      expect(of('workflow.suspended')).toEqual({
        status: ['active', 'suspended'],
        suspended_step: [null, 'wait'],
      });
      expect(of('tenant.updated', 0)).toEqual({ status: ['active', 'suspended'] });
      expect(of('tenant.updated', 1)).toEqual({ status: ['suspended', 'active'] });
      expect(of('api_key.created')).toEqual({ name: [null, 'ci'], role: [null, 'admin'] });
      expect(Object.keys(of('api_key.revoked'))).toEqual(['revoked_at']);
      expect(Object.keys(of('proxy_key.rotated'))).toEqual(['expires_at']);
      // Secrets and personal data: that they changed, never what they are.
      expect(of('webhook_endpoint.secret_rotated')).toEqual({ secret: [R, R] });
      expect(of('person.updated')).toEqual({ email: [R, R] });
      expect(of('person.created')).toMatchObject({ name: [R, R], email: [R, R], phone: [R, R] });
      expect(of('channel_endpoint.created')).toMatchObject({
        webhook_secret: [R, R],
        config: [R, R],
      });
      expect(of('binding.created')).toMatchObject({ channel_address: [R, R] });
    });

    it('holds no secret, key hash or personal data the writes carried', async () => {
      const { rows } = await t.raw.query<{ entry: string }>(
        'SELECT row_to_json(audit_log)::text AS entry FROM audit_log',
      );
      const stored = rows.map((r) => r.entry).join('\n');
      const keys = secrets.filter((s) => s.startsWith('hc_'));
      const hashes = keys.map((k) => createHash('sha256').update(k).digest('hex'));
      expect(secrets.length).toBeGreaterThan(12);
      for (const secret of [...secrets, ...hashes]) expect(stored).not.toContain(secret);
      // The keys' hints (their last characters) are not copied either.
      expect(stored).not.toMatch(/key_hint|key_hash|sealed_secret/);
    });

    it('drove every audited route to an entry', () => {
      const audited = [...routeDeclarations(t)]
        .filter(([, declared]) => declared !== undefined && 'audited' in declared)
        .map(([route]) => route)
        .sort();
      expect([...exercised].sort()).toEqual(audited);
    });
  });

  describe('reading', () => {
    let tenant: string;
    let admin: Headers;
    let customers: string[];

    beforeAll(async () => {
      const res = await t.http().post('/platform/v1/tenants').set(PLATFORM).send({ name: 'Pages' });
      tenant = res.body.id as string;
      admin = bearer(token(tenant, 'admin'));
      customers = [];
      for (let n = 0; n < 5; n++) {
        const c = await t
          .http()
          .post('/v1/customers')
          .set(admin)
          .send({ name: `C${n}` })
          .expect(201);
        customers.push(c.body.id as string);
      }
      await t
        .http()
        .patch(`/v1/customers/${customers[0]}`)
        .set(admin)
        .send({ name: 'C0 renamed' })
        .expect(200);
    });

    it('pages newest first by `after`, never repeating or skipping an entry', async () => {
      const whole = (await t.http().get('/v1/audit-log').set(admin).expect(200)).body;
      expect(whole.has_more).toBe(false);
      expect(whole.entries).toHaveLength(7); // the tenant, five customers, one rename
      expect(whole.entries[0].action).toBe('customer.updated');
      expect(whole.entries[6].action).toBe('tenant.created');
      const paged: Entry[] = [];
      let after: string | undefined;
      for (;;) {
        const url: string = `/v1/audit-log?limit=3${after ? `&after=${after}` : ''}`;
        const page = (await t.http().get(url).set(admin).expect(200)).body;
        paged.push(...(page.entries as Entry[]));
        expect(page.entries.length).toBeLessThanOrEqual(3);
        if (!page.has_more) break;
        after = page.next_after as string;
      }
      expect(paged.map((e) => e.id)).toEqual(whole.entries.map((e: Entry) => e.id));
      const last = (await t.http().get(`/v1/audit-log?after=${paged[6].id}`).set(admin).expect(200))
        .body;
      expect(last).toEqual({ entries: [], next_after: null, has_more: false });
    });

    it('filters by target and by action', async () => {
      const target = (
        await t.http().get(`/v1/audit-log?target_id=${customers[0]}`).set(admin).expect(200)
      ).body;
      expect(target.entries.map((e: Entry) => e.action)).toEqual([
        'customer.updated',
        'customer.created',
      ]);
      const created = (
        await t.http().get('/v1/audit-log?action=customer.created&limit=2').set(admin).expect(200)
      ).body;
      expect(created.entries.map((e: Entry) => e.target_id)).toEqual([customers[4], customers[3]]);
      expect(created.has_more).toBe(true);
      const next = (
        await t
          .http()
          .get(`/v1/audit-log?action=customer.created&after=${created.next_after}`)
          .set(admin)
          .expect(200)
      ).body;
      expect(next.entries.map((e: Entry) => e.target_id)).toEqual([
        customers[2],
        customers[1],
        customers[0],
      ]);
    });

    it("passes each entry's changes on as stored, never parsed and written out again", async () => {
      const res = await t
        .http()
        .get(`/v1/audit-log?target_id=${customers[0]}&limit=1`)
        .set(admin)
        .expect(200);
      expect(res.body.entries[0].changes).toEqual({ name: ['C0', 'C0 renamed'] });
      const { rows } = await t.raw.query(
        `SELECT changes::text AS text FROM audit_log WHERE id = $1`,
        [res.body.entries[0].id],
      );
      // PostgreSQL's text of jsonb, spaces after commas and colons: no JSON.stringify wrote it.
      expect(rows[0].text).toBe('{"name": ["C0", "C0 renamed"]}');
      expect(res.text).toContain(`"changes":${rows[0].text}`);
    });

    it('refuses a cursor that is not an entry of the tenant, and limits past their bounds', async () => {
      const other = await t
        .http()
        .post('/platform/v1/tenants')
        .set(PLATFORM)
        .send({ name: 'Other' });
      const theirs = (
        await t
          .http()
          .get('/v1/audit-log')
          .set(bearer(token(other.body.id as string, 'admin')))
          .expect(200)
      ).body.entries[0].id as string;
      const res = await t.http().get(`/v1/audit-log?after=${theirs}`).set(admin).expect(422);
      expect(res.body.detail).toEqual([
        { loc: ['query', 'after'], msg: 'No such audit entry', type: 'value_error' },
      ]);
      for (const limit of ['0', '201', 'x']) {
        const bad = await t.http().get(`/v1/audit-log?limit=${limit}`).set(admin).expect(422);
        expect(bad.body.detail[0].loc).toEqual(['query', 'limit']);
      }
      await t.http().get('/v1/audit-log?limit=200').set(admin).expect(200);
    });

    it('is for tenant admins: JWT or admin API key, never a customer admin or a member', async () => {
      const key = await t
        .http()
        .post('/v1/api-keys')
        .set(admin)
        .send({ name: 'read', role: 'admin' })
        .expect(201);
      await t
        .http()
        .get('/v1/audit-log')
        .set({ 'X-Api-Key': key.body.key as string })
        .expect(200);
      const memberKey = await t
        .http()
        .post('/v1/api-keys')
        .set(admin)
        .send({ name: 'm', role: 'member' })
        .expect(201);
      await t
        .http()
        .get('/v1/audit-log')
        .set({ 'X-Api-Key': memberKey.body.key as string })
        .expect(403);
      await t
        .http()
        .get('/v1/audit-log')
        .set(bearer(token(tenant, 'admin', customers[0])))
        .expect(403);
      await t
        .http()
        .get('/v1/audit-log')
        .set(bearer(token(tenant, 'member')))
        .expect(403);
      await t.http().get('/v1/audit-log').expect(401);
    });

    it("shows one tenant's entries to no other tenant, through the API or the database", async () => {
      const other = await t.http().post('/platform/v1/tenants').set(PLATFORM).send({ name: 'B' });
      const b = other.body.id as string;
      const mine = await allEntries(t, admin);
      const theirs = await allEntries(t, bearer(token(b, 'admin')));
      expect(theirs.map((e) => [e.action, e.target_id])).toEqual([['tenant.created', b]]);
      expect(mine.map((e) => e.target_id)).not.toContain(b);
      const seen = await asRuntimeRole(
        t,
        b,
        async (db) =>
          (await db.query<{ tenant_id: string }>('SELECT tenant_id FROM audit_log')).rows,
      );
      expect(seen.map((r) => r.tenant_id)).toEqual([b]);
      // Written under B, an entry naming A's tenant is refused by the policy.
      await expect(
        asRuntimeRole(t, b, (db) =>
          db.query(
            `INSERT INTO audit_log (tenant_id, actor_kind, action, target_type, target_id)
                    VALUES ($1, 'platform', 'x.y', 'x', $1)`,
            [tenant],
          ),
        ),
      ).rejects.toMatchObject({ code: '42501' });
    });

    it('is append-only: the runtime role cannot UPDATE or DELETE, the owner cannot UPDATE', async () => {
      const update = `UPDATE audit_log SET action = 'forged.entry'`;
      const remove = 'DELETE FROM audit_log';
      for (const sql of [update, remove]) {
        await expect(asRuntimeRole(t, tenant, (db) => db.query(sql))).rejects.toMatchObject({
          code: '42501', // permission denied
        });
      }
      // What the runtime role may do: add an entry of its tenant and read them.
      const counts = await asRuntimeRole(t, tenant, async (db) => {
        const count = async () =>
          (await db.query('SELECT count(*)::int AS n FROM audit_log')).rows[0].n as number;
        const before = await count();
        await db.query(
          `INSERT INTO audit_log (actor_kind, action, target_type, target_id)
           VALUES ('platform', 'x.checked', 'x', $1)`,
          [tenant],
        );
        return [before, await count()];
      });
      expect(counts[1]).toBe(counts[0] + 1);
      // The owner (migrations) is refused an UPDATE by the trigger, whoever asks.
      const owner = await t.owner.connect();
      try {
        await owner.query('BEGIN');
        await owner.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenant]);
        await expect(owner.query(update)).rejects.toThrow('audit_log is append-only');
      } finally {
        await owner.query('ROLLBACK');
        owner.release();
      }
      const { rows } = await t.raw.query(
        `SELECT count(*)::int AS n FROM audit_log WHERE tenant_id = $1 AND action = 'forged.entry'`,
        [tenant],
      );
      expect(rows[0].n).toBe(0);
    });
  });
});
