import { LIVE_BINDING_SQL } from '../../src/worker-bindings/worker-bindings.repository';
import { TestApp, asRuntimeRole, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

/** GET …/worker-bindings/lookup: the runtime's "who is this?" for an inbound message. */
describe('binding lookup', () => {
  let t: TestApp;
  let a: TenantSession;
  let b: TenantSession;
  let customer: string;
  let person: string;
  let instance: string;
  let otherInstance: string;
  let runtime: Record<string, string>;
  let otherRuntime: Record<string, string>;
  let runtimeB: Record<string, string>;
  let instanceB: string;
  let personB: string;
  let customerB: string;

  beforeAll(async () => {
    t = await startTestApp();
    a = await TenantSession.create(t, 'A');
    b = await TenantSession.create(t, 'B');
    customer = await a.customer('Harbour Lettings');
    person = await a.person(customer, 'Ada Lovelace');
    instance = await a.instance();
    otherInstance = await a.instance('Spare');
    runtime = (await a.proxyKey(instance)).headers;
    otherRuntime = (await a.proxyKey(otherInstance)).headers;
    customerB = await b.customer('Northgate');
    personB = await b.person(customerB, 'Bea');
    instanceB = await b.instance();
    runtimeB = (await b.proxyKey(instanceB)).headers;
  });
  afterAll(() => t.close());

  const bindingsOf = (i: string) => `/internal/v1/instances/${i}/worker-bindings`;
  const bind = async (
    channelType: string,
    address: string,
    by: { instance: string; headers: Record<string, string> } = { instance, headers: runtime },
    owner = { customer, person },
  ) => {
    const res = await t.http().post(bindingsOf(by.instance)).set(by.headers).send({
      channel_type: channelType,
      channel_address: address,
      customer_id: owner.customer,
      person_id: owner.person,
    });
    if (res.status !== 201) throw new Error(`bind: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as Record<string, unknown> & { id: string; channel_address: string };
  };
  const lookup = (
    query: Record<string, string>,
    headers = runtime,
    path = `${bindingsOf(instance)}/lookup`,
  ) => t.http().get(path).query(query).set(headers);

  it('finds a binding with its person and customer, the fields as the binding routes show', async () => {
    const binding = await bind('whatsapp', '+447700900123');
    const res = await lookup({ channel_type: 'whatsapp', address: '+447700900123' }).expect(200);
    expect(res.body).toEqual({
      ...binding,
      person: { id: person, name: 'Ada Lovelace' },
      customer: { id: customer, name: 'Harbour Lettings' },
    });
  });

  it.each([
    [
      'whatsapp',
      '+447700900124',
      ['+44 (0)7700 900124', '0044 7700 900-124', '＋４４７７００９００１２４'],
    ],
    ['telegram', '123456789', ['0123456789', ' 123456789 ', '１２３４５６７８９']],
    ['telegram', '@ada_lovelace', ['@Ada_Lovelace', 'ADA_LOVELACE']],
    [
      'email',
      'ada.lovelace@xn--exmple-cua.com',
      ['Ada.Lovelace@EXÄMPLE.com', 'ａｄａ．ｌｏｖｅｌａｃｅ＠ｅｘäｍｐｌｅ．ｃｏｍ'],
    ],
  ])('finds a %s binding stored as %s by another spelling', async (channel, stored, spellings) => {
    const binding = await bind(channel, spellings[0]);
    expect(binding.channel_address).toBe(stored);
    for (const address of spellings) {
      const res = await lookup({ channel_type: channel, address });
      expect([address, res.status, res.body.id]).toEqual([address, 200, binding.id]);
    }
  });

  it('does not guess a country: a national number is a 422, not a match', async () => {
    await bind('sms', '+447700900125');
    const res = await lookup({ channel_type: 'sms', address: '07700 900125' }).expect(422);
    expect(res.body.detail).toEqual([
      {
        loc: ['query', 'address'],
        msg: expect.stringContaining('country code'),
        type: 'value_error',
      },
    ]);
  });

  it('keeps channel types apart: a number bound on whatsapp is not found on sms', async () => {
    await bind('whatsapp', '+447700900126');
    const res = await lookup({ channel_type: 'sms', address: '+447700900126' }).expect(404);
    expect(res.body).toEqual({ detail: expect.any(String) });
  });

  it('answers 404 for a revoked binding, and finds the new address after a rebind', async () => {
    const revoked = await bind('sms', '+447700900127');
    await t
      .http()
      .post(`${bindingsOf(instance)}/${revoked.id}/revoke`)
      .set(runtime)
      .expect(200);
    const res = await lookup({ channel_type: 'sms', address: '+447700900127' }).expect(404);
    expect(res.body).toEqual({ detail: 'Binding not found' });

    const old = await bind('sms', '+447700900128');
    const rebound = await t
      .http()
      .post(`${bindingsOf(instance)}/${old.id}/rebind`)
      .set(runtime)
      .send({ new_address: '+44 7700 900129' })
      .expect(201);
    await lookup({ channel_type: 'sms', address: '+447700900128' }).expect(404);
    const found = await lookup({ channel_type: 'sms', address: '+447700900129' }).expect(200);
    expect(found.body).toMatchObject({ id: rebound.body.id, status: 'unverified' });
  });

  it('finds verified bindings too, with their status', async () => {
    const binding = await bind('voice', '+447700900130');
    await t
      .http()
      .post(`${bindingsOf(instance)}/${binding.id}/verify`)
      .set(runtime)
      .expect(200);
    const res = await lookup({ channel_type: 'voice', address: '+447700900130' }).expect(200);
    expect(res.body).toMatchObject({ id: binding.id, status: 'verified' });
    expect(res.body.verified_at).toEqual(expect.any(String));
  });

  it('finds bindings made by another instance of the tenant or on the dashboard', async () => {
    const byOther = await bind('whatsapp', '+447700900131', {
      instance: otherInstance,
      headers: otherRuntime,
    });
    const res = await lookup({ channel_type: 'whatsapp', address: '+447700900131' }).expect(200);
    expect(res.body).toMatchObject({ id: byOther.id, instance_id: otherInstance });

    const byDashboard = await t
      .http()
      .post(`/v1/customers/${customer}/worker-bindings`)
      .set(a.admin)
      .send({
        channel_type: 'email',
        channel_address: 'dash@example.com',
        customer_id: customer,
        person_id: person,
      })
      .expect(201);
    const found = await lookup({ channel_type: 'email', address: 'DASH@example.com' }).expect(200);
    expect(found.body).toMatchObject({ id: byDashboard.body.id, instance_id: null });
  });

  it("never finds another tenant's binding, even of the same address", async () => {
    const theirs = await bind(
      'whatsapp',
      '+447700900132',
      { instance: instanceB, headers: runtimeB },
      { customer: customerB, person: personB },
    );
    const res = await lookup({ channel_type: 'whatsapp', address: '+447700900132' }).expect(404);
    expect(JSON.stringify(res.body)).not.toContain(theirs.id);
    // Tenant B's own runtime finds it; A binding the same number is A's own, and found by A.
    const own = await lookup(
      { channel_type: 'whatsapp', address: '+447700900132' },
      runtimeB,
      `${bindingsOf(instanceB)}/lookup`,
    ).expect(200);
    expect(own.body).toMatchObject({
      id: theirs.id,
      person: { id: personB, name: 'Bea' },
      customer: { id: customerB, name: 'Northgate' },
    });
    const ours = await bind('whatsapp', '+447700900132');
    const found = await lookup({ channel_type: 'whatsapp', address: '+447700900132' }).expect(200);
    expect(found.body.id).toBe(ours.id);
  });

  it("refuses another instance's proxy key, and another tenant's, as the internal routes do", async () => {
    await bind('sms', '+447700900133');
    const query = { channel_type: 'sms', address: '+447700900133' };
    const other = await lookup(query, otherRuntime).expect(403);
    expect(other.body).toEqual({ detail: expect.any(String) });
    await lookup(query, runtimeB).expect(403);
    await lookup(query, {}).expect(401);
  });

  it.each([
    [{ channel_type: 'whatsapp', address: 'call me' }, ['query', 'address'], 'value_error'],
    [{ channel_type: 'email', address: 'nobody' }, ['query', 'address'], 'value_error'],
    [{ channel_type: 'telegram', address: '@no' }, ['query', 'address'], 'value_error'],
    [{ channel_type: 'telegram', address: '0' }, ['query', 'address'], 'value_error'],
    [{ channel_type: 'sms', address: '+44770090\u200b0123' }, ['query', 'address'], 'value_error'],
    [
      { channel_type: 'email', address: 'ada@\u202eexample.com' },
      ['query', 'address'],
      'value_error',
    ],
    [{ channel_type: 'sms', address: '' }, ['query', 'address'], 'string_too_short'],
    [{ channel_type: 'sms', address: '1'.repeat(256) }, ['query', 'address'], 'string_too_long'],
    [{ channel_type: 'sms' }, ['query', 'address'], 'missing'],
    [{ channel_type: 'fax', address: '+447700900123' }, ['query', 'channel_type'], 'enum'],
    [{ address: '+447700900123' }, ['query', 'channel_type'], 'missing'],
  ])('refuses %j with 422 at %j', async (query, loc, type) => {
    const res = await lookup(query as Record<string, string>).expect(422);
    expect(res.body.detail).toEqual([{ loc, msg: expect.any(String), type }]);
  });

  it('is one probe of the live-address index, in the custom and the generic plan', async () => {
    // Enough rows for the planner to prefer an index over a scan on its own merits.
    await t.raw.query(
      `INSERT INTO worker_bindings
         (tenant_id, customer_id, person_id, channel_type, channel_address, status, revoked_at)
       SELECT $1, $2, $3, (ARRAY['whatsapp','sms','email'])[1 + n % 3], '+4420' || n,
              CASE WHEN n % 4 = 0 THEN 'revoked' ELSE 'unverified' END,
              CASE WHEN n % 4 = 0 THEN now() END
         FROM generate_series(1, 5000) AS n`,
      [a.tenantId, customer, person],
    );
    await t.raw.query('ANALYZE worker_bindings');
    const plans = await asRuntimeRole(t, a.tenantId, async (client) => {
      await client.query(`PREPARE live_binding(uuid, text, text) AS ${LIVE_BINDING_SQL}`);
      const explain = async () =>
        JSON.stringify(
          (
            await client.query(
              `EXPLAIN (FORMAT JSON) EXECUTE live_binding('${a.tenantId}', 'sms', '+4420100')`,
            )
          ).rows[0]['QUERY PLAN'],
        );
      await client.query(`SET LOCAL plan_cache_mode = force_custom_plan`);
      const custom = await explain();
      await client.query(`SET LOCAL plan_cache_mode = force_generic_plan`);
      return [custom, await explain()];
    });
    for (const plan of plans) {
      expect(plan).toContain('"Index Name":"worker_bindings_live_address"');
      expect(plan).not.toContain('Seq Scan');
    }
  });
});
