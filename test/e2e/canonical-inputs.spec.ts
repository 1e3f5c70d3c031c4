import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

/** Two spellings of one address are one address; a time is RFC 3339 or a 422, never a 500. */
describe('canonical inputs', () => {
  let t: TestApp;
  let a: TenantSession;
  let customer: string;
  let person: string;
  let otherPerson: string;
  let instance: string;
  let runtime: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp();
    a = await TenantSession.create(t, 'A');
    customer = await a.customer('Harbour');
    person = await a.person(customer, 'Ada');
    otherPerson = await a.person(customer, 'Grace');
    instance = await a.instance();
    runtime = (await a.proxyKey(instance)).headers;
  });
  afterAll(() => t.close());

  const count = async (table: string) =>
    Number((await t.raw.query(`SELECT count(*) FROM ${table}`)).rows[0].count);

  describe('binding addresses', () => {
    const bindings = () => `/internal/v1/instances/${instance}/worker-bindings`;
    /** Binds for Ada, or for Grace: a second person claiming one address must be refused too. */
    const bind = (channel_type: string, channel_address: string, who = person) =>
      t.http().post(bindings()).set(runtime).send({
        channel_type,
        channel_address,
        customer_id: customer,
        person_id: who,
      });
    const stored = async (id: string) =>
      (await t.raw.query('SELECT channel_address FROM worker_bindings WHERE id = $1', [id])).rows[0]
        .channel_address;

    it('binds a telegram chat id once, whatever its leading zeros', async () => {
      const first = await bind('telegram', '123456789').expect(201);
      expect(await stored(first.body.id)).toBe('123456789');
      for (const spelling of ['0123456789', '00123456789']) {
        const res = await bind('telegram', spelling, otherPerson);
        expect([spelling, res.status]).toEqual([spelling, 409]);
        expect(res.body.detail).toContain('123456789');
      }
      const group = await bind('telegram', '-001001234567890').expect(201);
      expect(group.body.channel_address).toBe('-1001234567890');
      await bind('telegram', '-1001234567890', otherPerson).expect(409);
    });

    it('refuses a telegram chat id beyond a signed 64-bit integer, writing nothing', async () => {
      const before = await count('worker_bindings');
      for (const id of ['9223372036854775808', '-9223372036854775809']) {
        const res = await bind('telegram', id).expect(422);
        expect(res.body.detail).toEqual([
          { loc: ['body', 'channel_address'], msg: expect.any(String), type: 'value_error' },
        ]);
      }
      expect(await count('worker_bindings')).toBe(before);
    });

    it('stores +44 (0) 7700 900123 as +447700900123, and its other spellings collide', async () => {
      const res = await bind('whatsapp', '+44 (0) 7700 900123').expect(201);
      expect(res.body.channel_address).toBe('+447700900123');
      expect(await stored(res.body.id)).toBe('+447700900123');
      for (const spelling of ['+447700900123', '0044 7700 900123', '+４４７７００９００１２３']) {
        const again = await bind('whatsapp', spelling, otherPerson);
        expect([spelling, again.status]).toEqual([spelling, 409]);
      }
    });

    it('folds full-width look-alikes of an email into one address', async () => {
      const res = await bind('email', 'ada@example.com').expect(201);
      expect(await stored(res.body.id)).toBe('ada@example.com');
      for (const spelling of ['ＡＤＡ＠ｅｘａｍｐｌｅ．ｃｏｍ', 'ada@ＥＸＡＭＰＬＥ.com']) {
        const again = await bind('email', spelling, otherPerson);
        expect([spelling, again.status]).toEqual([spelling, 409]);
      }
    });

    it('stores a Cyrillic look-alike domain as its own punycode, never as the Latin name', async () => {
      const latin = await bind('email', 'grace@example.org').expect(201);
      // е, х and а below are Cyrillic: another domain, so another address, kept apart from the Latin one
      const cyrillic = await bind('email', 'grace@ехаmple.org', otherPerson).expect(201);
      const address = await stored(cyrillic.body.id);
      expect(address).toMatch(/^grace@xn--[a-z0-9-]+\.org$/);
      expect(address).not.toBe(await stored(latin.body.id));
      expect(cyrillic.body.channel_address).toBe(address);
      await bind('email', 'GRACE@ЕХАMPLE.ORG', person).expect(409); // its capitals are the same domain
    });

    it('treats exämple.com and its punycode as one address', async () => {
      const res = await bind('email', 'ada@exämple.com').expect(201);
      expect(await stored(res.body.id)).toBe('ada@xn--exmple-cua.com');
      await bind('email', 'ada@xn--exmple-cua.com', otherPerson).expect(409);
      await bind('email', 'Ada@EXÄMPLE.com', otherPerson).expect(409);
    });

    it.each([
      ['a zero-width space', 'zw\u200bsp@example.com'],
      ['a zero-width joiner', 'zw\u200djoin@example.com'],
      ['a byte-order mark', '\ufeffbom@example.com'],
      ['a soft hyphen', 'soft\u00adhyphen@example.com'],
      ['a right-to-left override', 'rlo\u202e@example.com'],
      ['a left-to-right mark', 'ltr\u200e@example.com'],
      ['a first-strong isolate', 'fsi\u2068@example.com'],
    ])('refuses %s with 422 at channel_address, writing nothing', async (_, address) => {
      const before = await count('worker_bindings');
      const res = await bind('email', address).expect(422);
      expect(res.body.detail).toEqual([
        { loc: ['body', 'channel_address'], msg: expect.any(String), type: 'value_error' },
      ]);
      expect(await count('worker_bindings')).toBe(before);
    });

    it('refuses a hidden character in a rebind at new_address, leaving the binding live', async () => {
      const old = await bind('email', 'rebind@example.com').expect(201);
      const res = await t
        .http()
        .post(`${bindings()}/${old.body.id}/rebind`)
        .set(runtime)
        .send({ new_address: 'rebind\u200b@example.com' })
        .expect(422);
      expect(res.body.detail).toEqual([
        { loc: ['body', 'new_address'], msg: expect.any(String), type: 'value_error' },
      ]);
      const rows = await t.raw.query(
        'SELECT status FROM worker_bindings WHERE id = $1 OR previous_binding_id = $1',
        [old.body.id],
      );
      expect(rows.rows).toEqual([{ status: 'unverified' }]);
    });
  });

  describe('channel external_identifier', () => {
    const channels = () => `/v1/instances/${instance}/channels`;
    const create = (body: object) =>
      t
        .http()
        .post(channels())
        .set(a.admin)
        .send({ channel_type: 'whatsapp', provider: 'twilio', ...body });
    const stored = async (id: string) =>
      (await t.raw.query('SELECT external_identifier FROM channel_endpoints WHERE id = $1', [id]))
        .rows[0].external_identifier;

    it('stores a phone identifier in E.164, so its other spellings collide', async () => {
      const res = await create({ external_identifier: '+44 (0) 7700 900200' }).expect(201);
      expect(res.body.external_identifier).toBe('+447700900200');
      expect(await stored(res.body.id)).toBe('+447700900200');
      await create({ external_identifier: '+447700900200' }).expect(409);
      await create({ external_identifier: '0044 7700 900200' }).expect(409);
      const sms = await create({ channel_type: 'sms', external_identifier: '00447700900200' });
      expect(sms.status).toBe(201);
      expect(await stored(sms.body.id)).toBe('+447700900200');
    });

    it('normalises a patched phone identifier and refuses one without a country code', async () => {
      const created = (await create({ external_identifier: '+447700900201' }).expect(201)).body;
      const patched = await t
        .http()
        .patch(`${channels()}/${created.id}`)
        .set(a.admin)
        .send({ external_identifier: '+44 (0)7700 900202' })
        .expect(200);
      expect(patched.body.external_identifier).toBe('+447700900202');
      const bad = await t
        .http()
        .patch(`${channels()}/${created.id}`)
        .set(a.admin)
        .send({ external_identifier: '07700 900203' })
        .expect(422);
      expect(bad.body.detail).toEqual([
        { loc: ['body', 'external_identifier'], msg: expect.any(String), type: 'value_error' },
      ]);
      expect(await stored(created.id)).toBe('+447700900202');
    });

    it.each([
      ['voice', 'retell', '07700 900204'],
      ['sms', 'twilio', 'call +447700900204'],
      ['whatsapp', 'meta_cloud', '+44 7700 900204 ext 1'],
    ])(
      'refuses a %s identifier that is not a phone number (%s, %j), writing nothing',
      async (channel_type, provider, external_identifier) => {
        const before = await count('channel_endpoints');
        const res = await create({ channel_type, provider, external_identifier }).expect(422);
        expect(res.body.detail).toEqual([
          { loc: ['body', 'external_identifier'], msg: expect.any(String), type: 'value_error' },
        ]);
        expect(await count('channel_endpoints')).toBe(before);
      },
    );

    it.each([
      ['whatsapp', 'meta_cloud', '106540352242922'],
      ['voice', 'retell', 'agent_3f9c2a'],
    ])(
      "keeps a provider's own id for a %s endpoint (%s) as written",
      async (channel_type, provider, id) => {
        const res = await create({ channel_type, provider, external_identifier: id }).expect(201);
        expect(await stored(res.body.id)).toBe(id);
      },
    );

    it('stores a Telegram name as Telegram reads it, and a web chat id as written', async () => {
      const bot = await create({
        channel_type: 'telegram',
        provider: 'telegram',
        external_identifier: '@Harbour_Bot',
      }).expect(201);
      expect(await stored(bot.body.id)).toBe('@harbour_bot');
      const widget = await create({
        channel_type: 'web_chat',
        provider: 'web_chat',
        external_identifier: 'Widget_Main',
      }).expect(201);
      expect(await stored(widget.body.id)).toBe('Widget_Main');
    });
  });

  describe('times', () => {
    const workflows = () => `/internal/v1/instances/${instance}/workflows`;
    const createWorkflow = (body: object) =>
      t
        .http()
        .post(workflows())
        .set(runtime)
        .send({ customer_id: customer, workflow_type: 'lead', ...body });
    const row = async (id: string) =>
      (
        await t.raw.query(
          'SELECT expires_at, next_action_at, history, updated_at FROM workflows WHERE id = $1',
          [id],
        )
      ).rows[0];

    const BAD = [
      '2030-W01-1', // ISO 8601 week date
      '20300101T000000Z', // ISO 8601 basic format
      '2030-01-01T00Z', // reduced precision
      '2030-01-01T00:00Z', // no seconds
      '2030-02-30T00:00:00Z', // no such day
      '2029-02-29T00:00:00Z', // not a leap year
      '2030-13-01T00:00:00Z',
      '2030-01-01T24:00:00Z',
      '2030-01-01T00:00:60Z', // a leap second Date cannot hold
      '2030-01-01T00:00:00', // no offset: which instant?
      '2030-01-01 00:00:00Z', // a space for the T
      '2030-01-01T00:00:00+24:00',
      '2030-01-01T00:00:00+0100',
      '2030-01-01T00:00:00.Z',
      '2030-001T00:00:00Z', // ordinal date
      '+002030-01-01T00:00:00Z', // expanded year
      '9999-12-31T23:59:59-23:59', // in UTC the year 10000, which RFC 3339 cannot write
      '0000-01-01T00:00:00+23:59', // in UTC the year -1
      '0000-06-01T00:00:00Z', // no year 0 in the database's calendar
    ];

    it.each(['expires_at', 'next_action_at'])(
      'refuses every non-RFC 3339 %s on create with 422 at its loc, writing nothing',
      async (field) => {
        const before = await count('workflows');
        for (const value of BAD) {
          const res = await createWorkflow({ [field]: value });
          expect([value, res.status]).toEqual([value, 422]);
          expect([value, res.body.detail]).toEqual([
            value,
            [{ loc: ['body', field], msg: expect.any(String), type: 'datetime_parsing' }],
          ]);
        }
        expect(await count('workflows')).toBe(before);
      },
    );

    it.each(['expires_at', 'next_action_at'])(
      'refuses every non-RFC 3339 %s on advance with 422, leaving the workflow as it was',
      async (field) => {
        const created = (await createWorkflow({ [field]: '2030-01-01T00:00:00Z' }).expect(201))
          .body;
        const before = await row(created.id);
        for (const value of BAD) {
          const res = await t
            .http()
            .patch(`${workflows()}/${created.id}`)
            .set(runtime)
            .send({ action: 'rescheduled', [field]: value });
          expect([value, res.status]).toEqual([value, 422]);
          expect(res.body.detail[0].loc).toEqual(['body', field]);
        }
        expect(await row(created.id)).toEqual(before);
      },
    );

    it('accepts RFC 3339 in all its forms, lower-case t and z included, as their instants', async () => {
      for (const [value, instant] of [
        ['2030-01-01t00:00:00z', '2030-01-01T00:00:00.000Z'],
        ['2030-01-01T05:30:00.123456+05:30', '2030-01-01T00:00:00.123Z'],
        ['2030-01-01T00:00:00-00:00', '2030-01-01T00:00:00.000Z'], // offset unknown: still UTC
        ['2028-02-29T23:59:59.5Z', '2028-02-29T23:59:59.500Z'], // a leap day
        ['9999-12-31T23:59:59Z', '9999-12-31T23:59:59.000Z'], // the last second written as it is
        ['0001-01-01T23:00:00+22:00', '0001-01-01T01:00:00.000Z'], // and near the first
      ]) {
        const res = await createWorkflow({ expires_at: value, next_action_at: value });
        expect([value, res.status]).toEqual([value, 201]);
        expect(res.body).toMatchObject({ expires_at: instant, next_action_at: instant });
        const stored = await row(res.body.id);
        expect([value, stored.expires_at.toISOString()]).toEqual([value, instant]);
      }
    });

    it('still documents the time fields as date-time', async () => {
      const doc = (await t.http().get('/openapi.json').expect(200)).body;
      for (const schema of ['CreateWorkflowDto', 'AdvanceWorkflowDto']) {
        for (const field of ['expires_at', 'next_action_at']) {
          expect(doc.components.schemas[schema].properties[field]).toMatchObject({
            type: 'string',
            format: 'date-time',
          });
        }
      }
      // and the house rule holds: the week date that once reached SQL as NaN is a 422 here too
      await createWorkflow({ expires_at: '2030-W01-1' }).expect(422);
    });
  });
});
