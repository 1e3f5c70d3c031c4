import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

describe('worker bindings', () => {
  let t: TestApp;
  let a: TenantSession;
  let customer: string;
  let otherCustomer: string;
  let person: string;
  let instance: string;
  let runtime: Record<string, string>;
  let base: string;

  beforeAll(async () => {
    t = await startTestApp();
    a = await TenantSession.create(t, 'A');
    customer = await a.customer('Harbour');
    otherCustomer = await a.customer('Northgate');
    person = await a.person(customer, 'Ada');
    instance = await a.instance();
    runtime = (await a.proxyKey(instance)).headers;
    base = `/internal/v1/instances/${instance}/worker-bindings`;
  });
  afterAll(() => t.close());

  let phone = 447700900000;
  const nextPhone = () => `+${++phone}`;
  const create = (body: object, headers = runtime) => t.http().post(base).set(headers).send(body);
  const bind = async (address = nextPhone(), channel = 'whatsapp') => {
    const res = await create({
      channel_address: address,
      channel_type: channel,
      customer_id: customer,
      person_id: person,
    });
    expect(res.status).toBe(201);
    return res.body;
  };
  const row = async (id: string) =>
    (await t.raw.query('SELECT * FROM worker_bindings WHERE id = $1', [id])).rows[0];

  describe('create', () => {
    it('creates an unverified binding with every field, address normalised', async () => {
      const res = await create({
        channel_address: '+44 7700 900 999',
        channel_type: 'sms',
        customer_id: customer,
        person_id: person,
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        tenant_id: a.tenantId,
        customer_id: customer,
        person_id: person,
        instance_id: instance,
        channel_type: 'sms',
        channel_address: '+447700900999',
        status: 'unverified',
        verified_at: null,
        revoked_at: null,
        previous_binding_id: null,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });
      expect(await row(res.body.id)).toMatchObject({
        channel_address: '+447700900999',
        status: 'unverified',
      });
    });

    it.each([
      [{ channel_type: 'fax' }, ['body', 'channel_type'], 'enum'],
      [{ channel_address: '' }, ['body', 'channel_address'], 'string_too_short'],
      [{ channel_address: 'x'.repeat(256) }, ['body', 'channel_address'], 'string_too_long'],
      [{ channel_address: '07700 900123' }, ['body', 'channel_address'], 'value_error'],
      [
        { channel_type: 'email', channel_address: 'nope' },
        ['body', 'channel_address'],
        'value_error',
      ],
      [
        { channel_type: 'telegram', channel_address: '@no' },
        ['body', 'channel_address'],
        'value_error',
      ],
      [{ customer_id: 'x' }, ['body', 'customer_id'], 'uuid_parsing'],
      [{ person_id: undefined }, ['body', 'person_id'], 'missing'],
    ])('refuses %j with 422 at %j', async (override, loc, type) => {
      const before = Number(
        (await t.raw.query('SELECT count(*) FROM worker_bindings')).rows[0].count,
      );
      const body = {
        channel_address: nextPhone(),
        channel_type: 'whatsapp',
        customer_id: customer,
        person_id: person,
        ...override,
      };
      const res = await create(body);
      expect(res.status).toBe(422);
      expect(res.body.detail).toEqual([{ loc, msg: expect.any(String), type }]);
      expect(
        Number((await t.raw.query('SELECT count(*) FROM worker_bindings')).rows[0].count),
      ).toBe(before);
    });

    it('refuses a person of another customer, or an unknown customer, with 422', async () => {
      const stranger = await a.person(otherCustomer);
      const res = await create({
        channel_address: nextPhone(),
        channel_type: 'sms',
        customer_id: customer,
        person_id: stranger,
      });
      expect(res.status).toBe(422);
      expect(res.body.detail[0].loc).toEqual(['body', 'person_id']);
      const unknown = '00000000-0000-4000-8000-000000000001';
      const res2 = await create({
        channel_address: nextPhone(),
        channel_type: 'sms',
        customer_id: unknown,
        person_id: person,
      });
      expect(res2.body.detail[0].loc).toEqual(['body', 'customer_id']);
    });

    it('refuses a second live binding of the same address with 409 naming it', async () => {
      const address = nextPhone();
      await bind(address);
      const res = await create({
        channel_address: address,
        channel_type: 'whatsapp',
        customer_id: customer,
        person_id: person,
      });
      expect(res.status).toBe(409);
      expect(res.body.detail).toContain(address);
      // the same number on another channel type is another address
      await bind(address, 'sms');
    });

    it('lets exactly one of many simultaneous creates of one address win', async () => {
      const address = nextPhone();
      const body = {
        channel_address: address,
        channel_type: 'voice',
        customer_id: customer,
        person_id: person,
      };
      const results = await Promise.all(Array.from({ length: 8 }, () => create(body)));
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
      const live = await t.raw.query(
        `SELECT count(*) FROM worker_bindings WHERE channel_address = $1 AND status <> 'revoked'`,
        [address],
      );
      expect(live.rows[0].count).toBe('1');
    });
  });

  describe('list', () => {
    it('lists a customer’s bindings newest first, revoked included', async () => {
      const c = await a.customer();
      const p = await a.person(c);
      const make = (address: string) =>
        create({
          channel_address: address,
          channel_type: 'email',
          customer_id: c,
          person_id: p,
        }).expect(201);
      const first = (await make('one@example.com')).body;
      const second = (await make('two@example.com')).body;
      await t.http().post(`${base}/${first.id}/revoke`).set(runtime).expect(200);
      const res = await t.http().get(`${base}?customer_id=${c}`).set(runtime).expect(200);
      expect(res.body.count).toBe(2);
      expect(
        res.body.bindings.map((b: { id: string; status: string }) => [b.id, b.status]),
      ).toEqual([
        [second.id, 'unverified'],
        [first.id, 'revoked'],
      ]);
    });

    it('needs customer_id', async () => {
      const res = await t.http().get(base).set(runtime).expect(422);
      expect(res.body.detail).toEqual([
        { loc: ['query', 'customer_id'], msg: 'Field required', type: 'missing' },
      ]);
      const bad = await t.http().get(`${base}?customer_id=nope`).set(runtime).expect(422);
      expect(bad.body.detail[0].type).toBe('uuid_parsing');
    });
  });

  describe('rebind, revoke, verify', () => {
    it('rebinds atomically: old revoked, new unverified and linked', async () => {
      const old = await bind();
      await t.http().post(`${base}/${old.id}/verify`).set(runtime).expect(200);
      const address = nextPhone();
      const res = await t
        .http()
        .post(`${base}/${old.id}/rebind`)
        .set(runtime)
        .send({ new_address: address })
        .expect(201);
      expect(res.body).toMatchObject({
        channel_address: address,
        channel_type: 'whatsapp',
        person_id: person,
        customer_id: customer,
        status: 'unverified',
        verified_at: null,
        previous_binding_id: old.id,
      });
      expect(await row(old.id)).toMatchObject({ status: 'revoked', revoked_at: expect.any(Date) });
    });

    it('keeps the old binding live when the new address is taken or invalid', async () => {
      const old = await bind();
      const taken = (await bind()).channel_address;
      const conflict = await t
        .http()
        .post(`${base}/${old.id}/rebind`)
        .set(runtime)
        .send({ new_address: taken });
      expect(conflict.status).toBe(409);
      expect(conflict.body.detail).toContain(taken);
      const invalid = await t
        .http()
        .post(`${base}/${old.id}/rebind`)
        .set(runtime)
        .send({ new_address: 'nope' });
      expect(invalid.status).toBe(422);
      expect(invalid.body.detail[0].loc).toEqual(['body', 'new_address']);
      expect(await row(old.id)).toMatchObject({ status: 'unverified', revoked_at: null });
      const successors = await t.raw.query(
        'SELECT count(*) FROM worker_bindings WHERE previous_binding_id = $1',
        [old.id],
      );
      expect(successors.rows[0].count).toBe('0');
    });

    it('refuses to rebind, revoke or verify a revoked binding (409)', async () => {
      const b = await bind();
      const revoked = await t.http().post(`${base}/${b.id}/revoke`).set(runtime).expect(200);
      expect(revoked.body).toMatchObject({ status: 'revoked', revoked_at: expect.any(String) });
      await t.http().post(`${base}/${b.id}/revoke`).set(runtime).expect(409);
      await t
        .http()
        .post(`${base}/${b.id}/rebind`)
        .set(runtime)
        .send({ new_address: nextPhone() })
        .expect(409);
      await t.http().post(`${base}/${b.id}/verify`).set(runtime).expect(409);
    });

    it('verifies once; verifying again changes nothing', async () => {
      const b = await bind();
      const first = await t.http().post(`${base}/${b.id}/verify`).set(runtime).expect(200);
      expect(first.body).toMatchObject({ status: 'verified', verified_at: expect.any(String) });
      const again = await t.http().post(`${base}/${b.id}/verify`).set(runtime).expect(200);
      expect(again.body.verified_at).toBe(first.body.verified_at);
    });

    it('serialises a rebind racing a revoke: one wins, nothing half-done', async () => {
      const b = await bind();
      const [rebind, revoke] = await Promise.all([
        t.http().post(`${base}/${b.id}/rebind`).set(runtime).send({ new_address: nextPhone() }),
        t.http().post(`${base}/${b.id}/revoke`).set(runtime),
      ]);
      expect([rebind.status, revoke.status].sort()).toEqual(
        rebind.status === 201 ? [201, 409] : [200, 409],
      );
      expect(await row(b.id)).toMatchObject({ status: 'revoked' });
    });

    it('answers 404 for an unknown binding', async () => {
      await t
        .http()
        .post(`${base}/00000000-0000-4000-8000-000000000009/revoke`)
        .set(runtime)
        .expect(404);
    });
  });

  describe('dashboard routes', () => {
    const dash = () => `/v1/customers/${customer}/worker-bindings`;

    it('lists, creates, rebinds and revokes for admins', async () => {
      const created = await t
        .http()
        .post(dash())
        .set(a.admin)
        .send({
          channel_address: 'Ada@Harbour.example',
          channel_type: 'email',
          customer_id: customer,
          person_id: person,
        })
        .expect(201);
      expect(created.body).toMatchObject({
        channel_address: 'ada@harbour.example',
        instance_id: null,
      });
      const rebound = await t
        .http()
        .post(`${dash()}/${created.body.id}/rebind`)
        .set(a.admin)
        .send({ new_address: 'ada@new.example' })
        .expect(201);
      await t
        .http()
        .post(`${dash()}/${rebound.body.id}/revoke`)
        .set(a.customerAdmin(customer))
        .expect(200);
      const list = await t.http().get(dash()).set(a.customerAdmin(customer)).expect(200);
      expect(list.body.bindings.map((b: { id: string }) => b.id)).toEqual(
        expect.arrayContaining([created.body.id, rebound.body.id]),
      );
    });

    it('requires the body customer_id to equal the path', async () => {
      const res = await t.http().post(dash()).set(a.admin).send({
        channel_address: nextPhone(),
        channel_type: 'sms',
        customer_id: otherCustomer,
        person_id: person,
      });
      expect(res.status).toBe(422);
      expect(res.body.detail[0].loc).toEqual(['body', 'customer_id']);
    });

    it('confines customer admins to their customer and refuses members', async () => {
      const b = await bind();
      const otherAdmin = a.customerAdmin(otherCustomer);
      await t.http().get(dash()).set(otherAdmin).expect(403);
      await t.http().post(`${dash()}/${b.id}/revoke`).set(otherAdmin).expect(403);
      await t
        .http()
        .post(dash())
        .set(otherAdmin)
        .send({
          channel_address: nextPhone(),
          channel_type: 'sms',
          customer_id: customer,
          person_id: person,
        })
        .expect(403);
      await t.http().get(dash()).set(a.member(customer)).expect(403);
      expect(await row(b.id)).toMatchObject({ status: 'unverified' });
    });

    it('answers 404 for a binding of another customer of the tenant', async () => {
      const b = await bind();
      await t
        .http()
        .post(`/v1/customers/${otherCustomer}/worker-bindings/${b.id}/revoke`)
        .set(a.admin)
        .expect(404);
    });
  });

  describe('isolation from another tenant', () => {
    it('cannot list, rebind, revoke or verify these bindings, and changes nothing', async () => {
      const b = await bind();
      const other = await TenantSession.create(t, 'B');
      const otherInstance = await other.instance();
      const otherRuntime = (await other.proxyKey(otherInstance)).headers;
      const otherBase = `/internal/v1/instances/${otherInstance}/worker-bindings`;
      await t.http().get(`${otherBase}?customer_id=${customer}`).set(otherRuntime).expect(404);
      await t
        .http()
        .post(`${otherBase}/${b.id}/rebind`)
        .set(otherRuntime)
        .send({ new_address: nextPhone() })
        .expect(404);
      await t.http().post(`${otherBase}/${b.id}/revoke`).set(otherRuntime).expect(404);
      await t.http().post(`${otherBase}/${b.id}/verify`).set(otherRuntime).expect(404);
      const created = await t.http().post(otherBase).set(otherRuntime).send({
        channel_address: nextPhone(),
        channel_type: 'sms',
        customer_id: customer,
        person_id: person,
      });
      expect(created.status).toBe(422);
      // A's proxy key on B's instance path is refused before anything is looked up.
      await t.http().get(`${otherBase}?customer_id=${customer}`).set(runtime).expect(403);

      const dash = `/v1/customers/${customer}/worker-bindings`;
      const otherKey = await other.apiKey('admin');
      for (const headers of [other.admin, otherKey.headers]) {
        await t.http().get(dash).set(headers).expect(404);
        await t.http().post(`${dash}/${b.id}/revoke`).set(headers).expect(404);
        await t
          .http()
          .post(`${dash}/${b.id}/rebind`)
          .set(headers)
          .send({ new_address: nextPhone() })
          .expect(404);
      }
      expect(await row(b.id)).toMatchObject({ status: 'unverified', revoked_at: null });
    });
  });

  it('documents every route with the reference’s summaries under "Worker bindings"', async () => {
    const doc = (await t.http().get('/openapi.json').expect(200)).body;
    const summaries = Object.values(
      doc.paths as Record<string, Record<string, { summary: string; tags: string[] }>>,
    )
      .flatMap((item) => Object.values(item))
      .filter((op) => op.tags.includes('Worker bindings'))
      .map((op) => op.summary)
      .sort();
    expect(summaries).toEqual(
      [
        'Create Binding',
        'List Bindings',
        'Look Up Binding',
        'Rebind Channel',
        'Revoke Binding',
        'Tenant Create Binding',
        'Tenant List Bindings',
        'Tenant Rebind',
        'Tenant Revoke Binding',
        'Verify Binding',
      ].sort(),
    );
    expect(doc.components.schemas.CreateBindingDto.properties.channel_type.enum).toEqual([
      'whatsapp',
      'sms',
      'voice',
      'telegram',
      'email',
    ]);
    expect(doc.components.schemas.CreateBindingDto.properties.channel_address).toMatchObject({
      minLength: 1,
      maxLength: 255,
    });
  });
});
