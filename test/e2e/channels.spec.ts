import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

describe('channels', () => {
  let t: TestApp;
  let a: TenantSession;
  let instance: string;
  let path: string;
  let serial = 0;

  beforeAll(async () => {
    t = await startTestApp();
    a = await TenantSession.create(t, 'A');
    instance = await a.instance();
    path = `/v1/instances/${instance}/channels`;
  });
  afterAll(() => t.close());

  const phone = () => `+4477009${String(++serial).padStart(5, '0')}`;
  const create = (body: object, headers = a.admin) =>
    t
      .http()
      .post(path)
      .set(headers)
      .send({
        channel_type: 'whatsapp',
        provider: 'twilio',
        external_identifier: phone(),
        ...body,
      });
  const stored = async (id: string) =>
    (await t.raw.query('SELECT * FROM channel_endpoints WHERE id = $1', [id])).rows[0];

  it('creates an endpoint with the seeds’ fields, defaults and has_webhook_secret', async () => {
    const res = await create({
      external_identifier: '+447700900001',
      config: { streaming: { mode: 'chunks' } },
    }).expect(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      instance_id: instance,
      channel_type: 'whatsapp',
      provider: 'twilio',
      external_identifier: '+447700900001',
      config: { streaming: { mode: 'chunks' } },
      connection_id: null,
      enabled: true,
      status: 'pending',
      error_message: null,
      last_event_at: null,
      has_webhook_secret: false,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
  });

  it('refuses an error_message over 2,000 characters, changing nothing', async () => {
    const made = (await create({}).expect(201)).body;
    const patch = (error_message: string) =>
      t.http().patch(`${path}/${made.id}`).set(a.admin).send({ error_message });
    const refused = await patch('x'.repeat(2001)).expect(422);
    expect(refused.body.detail).toEqual([
      { loc: ['body', 'error_message'], msg: expect.any(String), type: 'string_too_long' },
    ]);
    expect((await stored(made.id)).error_message).toBeNull();
    await patch('x'.repeat(2000)).expect(200);
  });

  it('keeps an instance to 200 endpoints: its lists are read whole', async () => {
    const full = await a.instance('Full');
    const url = `/v1/instances/${full}/channels`;
    await t.raw.query(
      `INSERT INTO channel_endpoints (tenant_id, instance_id, channel_type, provider, external_identifier)
       SELECT $1, $2, 'web_chat', 'web_chat', 'seeded-' || g FROM generate_series(1, 199) g`,
      [a.tenantId, full],
    );
    const body = (n: number) => ({
      channel_type: 'web_chat',
      provider: 'web_chat',
      external_identifier: `made-${n}`,
    });
    await t.http().post(url).set(a.admin).send(body(1)).expect(201);
    const over = await t.http().post(url).set(a.admin).send(body(2)).expect(409);
    expect(over.body.detail).toMatch(/at most 200 channel endpoints/);
    const { rows } = await t.raw.query(
      'SELECT count(*)::int AS n FROM channel_endpoints WHERE instance_id = $1',
      [full],
    );
    expect(rows).toEqual([{ n: 200 }]);
  });

  it('keeps the webhook secret encrypted, never returned, never in plaintext at rest', async () => {
    const secret = 'whsec_live_5up3r-53cr3t-value';
    const res = await create({ webhook_secret: secret }).expect(201);
    expect(res.body.has_webhook_secret).toBe(true);
    expect(JSON.stringify(res.body)).not.toContain(secret);
    const row = await stored(res.body.id);
    expect(Buffer.isBuffer(row.webhook_secret)).toBe(true);
    expect(row.webhook_secret.toString('latin1')).not.toContain(secret);
    expect(JSON.stringify(row)).not.toContain(secret);
    const list = await t.http().get(path).set(a.admin).expect(200);
    expect(JSON.stringify(list.body)).not.toContain(secret);
    expect(list.body.channels.find((c: { id: string }) => c.id === res.body.id)).toMatchObject({
      has_webhook_secret: true,
    });
    expect(list.body.channels[0]).not.toHaveProperty('webhook_secret');
  });

  it('reads identifiers as a person sees them: look-alikes are the same endpoint', async () => {
    const made = await create({
      channel_type: 'sms',
      provider: 'twilio',
      external_identifier: '\uFF0B447700900611', // a full-width plus
    }).expect(201);
    expect(made.body.external_identifier).toBe('+447700900611');
    for (const spelling of [' +447700900611 ', '+44 7700 900611']) {
      await create({
        channel_type: 'sms',
        provider: 'twilio',
        external_identifier: spelling,
      }).expect(409);
    }
    const meta = await create({
      channel_type: 'whatsapp',
      provider: 'meta_cloud',
      external_identifier: '123456789012345\t',
    }).expect(201);
    expect(meta.body.external_identifier).toBe('123456789012345');
    await create({
      channel_type: 'whatsapp',
      provider: 'meta_cloud',
      external_identifier: ' 123456789012345',
    }).expect(409);
    for (const hidden of ['hydra_bot\u200b', 'hydra\u202ebot', '   ']) {
      const res = await create({
        channel_type: 'telegram',
        provider: 'telegram',
        external_identifier: hidden,
      }).expect(422);
      expect(res.body.detail[0].loc).toEqual(['body', 'external_identifier']);
    }
  });

  it("gives another tenant's email, Telegram name and number no second spelling", async () => {
    const b = await TenantSession.create(t, 'Look-alikes');
    const bPath = `/v1/instances/${await b.instance()}/channels`;
    const held: [string, string, string, string[]][] = [
      ['email', 'resend', 'Support@Agency-A.com', ['support@agency-a.com', 'SUPPORT@AGENCY-A.COM']],
      ['email', 'smtp', 'info@exämple.com', ['info@xn--exmple-cua.com', 'INFO@EXÄMPLE.COM']],
      [
        'telegram',
        'telegram',
        '@AgencyABot',
        ['@agencyabot', 'AgencyABot', 'https://t.me/AgencyABot'],
      ],
      ['telegram', 'telegram', '0123456789', ['123456789']],
    ];
    for (const [channelType, provider, original, spellings] of held) {
      const made = await create({
        channel_type: channelType,
        provider,
        external_identifier: original,
      });
      expect(made.status).toBe(201);
      for (const spelling of spellings) {
        const res = await t
          .http()
          .post(bPath)
          .set(b.admin)
          .send({ channel_type: channelType, provider, external_identifier: spelling });
        expect({ spelling, status: res.status }).toEqual({ spelling, status: 409 });
      }
    }
    const stored = await t.raw.query(
      `SELECT external_identifier FROM channel_endpoints WHERE tenant_id = $1 ORDER BY created_at`,
      [a.tenantId],
    );
    expect(stored.rows.map((r) => r.external_identifier)).toEqual(
      expect.arrayContaining([
        'support@agency-a.com',
        'info@xn--exmple-cua.com',
        '@agencyabot',
        '123456789',
      ]),
    );
    // Twilio names a number by itself: digits without their country code's + are no number.
    const bare = await t
      .http()
      .post(bPath)
      .set(b.admin)
      .send({ channel_type: 'sms', provider: 'twilio', external_identifier: '447700900300' });
    expect(bare.status).toBe(422);
    expect(bare.body.detail[0].loc).toEqual(['body', 'external_identifier']);
    // The runtime finds an endpoint by any of those spellings.
    const { headers } = await a.proxyKey(instance);
    const found = await t
      .http()
      .get(`/internal/v1/instances/${instance}/channels`)
      .query({ external_identifier: 'HTTPS://T.ME/agencyabot' })
      .set(headers)
      .expect(200);
    expect(
      found.body.channels.map((e: { external_identifier: string }) => e.external_identifier),
    ).toEqual(['@agencyabot']);
  });

  it('requires a provider that suits the channel type, listing the allowed ones', async () => {
    const res = await create({ channel_type: 'sms', provider: 'meta_cloud' }).expect(422);
    expect(res.body.detail).toEqual([
      { loc: ['body', 'provider'], msg: expect.stringContaining('twilio'), type: 'enum' },
    ]);
    await create({
      channel_type: 'email',
      provider: 'resend',
      external_identifier: 'desk@harbour.example',
    }).expect(201);
    await create({ channel_type: 'web_chat', provider: 'web_chat' }).expect(201);
  });

  it.each([
    [{ channel_type: 'pigeon' }, ['body', 'channel_type'], 'enum'],
    [{ provider: 'x'.repeat(51) }, ['body', 'provider'], 'string_too_long'],
    [{ external_identifier: 'x'.repeat(256) }, ['body', 'external_identifier'], 'string_too_long'],
    [{ external_identifier: undefined }, ['body', 'external_identifier'], 'missing'],
    [{ config: [1, 2] }, ['body', 'config'], 'dict_type'],
    [{ config: null }, ['body', 'config'], 'dict_type'],
    [{ enabled: 'yes' }, ['body', 'enabled'], 'bool_type'],
    [{ connection_id: 'nope' }, ['body', 'connection_id'], 'uuid_parsing'],
  ])('refuses %j with 422 at %j and writes nothing', async (override, loc, type) => {
    const before = (await t.raw.query('SELECT count(*) FROM channel_endpoints')).rows[0].count;
    const res = await create(override).expect(422);
    expect(res.body.detail).toEqual([{ loc, msg: expect.any(String), type }]);
    expect((await t.raw.query('SELECT count(*) FROM channel_endpoints')).rows[0].count).toBe(
      before,
    );
  });

  it('refuses a duplicate (type, provider, identifier) across all tenants with 409, also concurrently', async () => {
    const id = phone();
    await create({ external_identifier: id }).expect(201);
    const res = await create({ external_identifier: id }).expect(409);
    expect(res.body.detail).toContain(id);
    const other = await TenantSession.create(t, 'B');
    const otherInstance = await other.instance();
    const body = { channel_type: 'whatsapp', provider: 'twilio', external_identifier: id };
    await t
      .http()
      .post(`/v1/instances/${otherInstance}/channels`)
      .set(other.admin)
      .send(body)
      .expect(409);
    await create({ external_identifier: id, provider: 'meta_cloud' }).expect(201); // another provider, another key

    const racing = phone();
    const results = await Promise.all(
      Array.from({ length: 6 }, () => create({ external_identifier: racing })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
  });

  describe('PATCH', () => {
    it('changes only the fields sent', async () => {
      const created = (await create({ config: { a: 1 }, webhook_secret: 'keep-me' }).expect(201))
        .body;
      const res = await t
        .http()
        .patch(`${path}/${created.id}`)
        .set(a.admin)
        .send({ status: 'error', error_message: 'Token expired' })
        .expect(200);
      expect(res.body).toMatchObject({
        status: 'error',
        error_message: 'Token expired',
        config: { a: 1 },
        provider: 'twilio',
        external_identifier: created.external_identifier,
        enabled: true,
        has_webhook_secret: true,
      });
      expect(new Date(res.body.updated_at).getTime()).toBeGreaterThanOrEqual(
        new Date(created.updated_at).getTime(),
      );
      const cleared = await t
        .http()
        .patch(`${path}/${created.id}`)
        .set(a.admin)
        .send({ error_message: null, enabled: false })
        .expect(200);
      expect(cleared.body).toMatchObject({ error_message: null, enabled: false, status: 'error' });
      expect(await stored(created.id)).toMatchObject({
        status: 'error',
        enabled: false,
        error_message: null,
        config: { a: 1 },
      });
      const same = await t.http().patch(`${path}/${created.id}`).set(a.admin).send({}).expect(200);
      expect(same.body).toMatchObject({ status: 'error', enabled: false });
    });

    it('re-validates the provider against the endpoint’s channel type', async () => {
      const created = (await create({}).expect(201)).body;
      await t
        .http()
        .patch(`${path}/${created.id}`)
        .set(a.admin)
        .send({ provider: 'meta_cloud' })
        .expect(200);
      const res = await t
        .http()
        .patch(`${path}/${created.id}`)
        .set(a.admin)
        .send({ provider: 'gmail' })
        .expect(422);
      expect(res.body.detail[0]).toMatchObject({
        loc: ['body', 'provider'],
        msg: expect.stringContaining('meta_cloud, twilio'),
      });
      expect((await stored(created.id)).provider).toBe('meta_cloud');
    });

    it('refuses to change channel_type, null for non-nullable fields, and unknown statuses', async () => {
      const created = (await create({}).expect(201)).body;
      const url = `${path}/${created.id}`;
      const type = await t.http().patch(url).set(a.admin).send({ channel_type: 'sms' }).expect(422);
      expect(type.body.detail[0].loc).toEqual(['body', 'channel_type']);
      await t.http().patch(url).set(a.admin).send({ channel_type: 'whatsapp' }).expect(200);
      for (const body of [
        { config: null },
        { enabled: null },
        { provider: null },
        { status: 'paused' },
        { external_identifier: '' },
      ]) {
        const res = await t.http().patch(url).set(a.admin).send(body);
        expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 422]);
      }
      expect(await stored(created.id)).toMatchObject({
        channel_type: 'whatsapp',
        status: 'pending',
        enabled: true,
      });
    });

    it('answers 409 when the new identifier is taken', async () => {
      const taken = (await create({}).expect(201)).body.external_identifier;
      const created = (await create({}).expect(201)).body;
      await t
        .http()
        .patch(`${path}/${created.id}`)
        .set(a.admin)
        .send({ external_identifier: taken })
        .expect(409);
    });
  });

  it('deletes with 204, after which the list no longer has it', async () => {
    const created = (await create({}).expect(201)).body;
    const res = await t.http().delete(`${path}/${created.id}`).set(a.admin).expect(204);
    expect(res.text).toBe('');
    const list = await t.http().get(path).set(a.admin).expect(200);
    expect(list.body.channels.map((c: { id: string }) => c.id)).not.toContain(created.id);
    expect(list.body.count).toBe(list.body.channels.length);
    await t.http().delete(`${path}/${created.id}`).set(a.admin).expect(404);
    await t.http().patch(`${path}/${created.id}`).set(a.admin).send({}).expect(404);
  });

  it('lets any principal of the tenant list, and only tenant admins write', async () => {
    const customer = await a.customer();
    const created = (await create({}).expect(201)).body;
    for (const headers of [
      a.member(),
      a.member(customer),
      a.customerAdmin(customer),
      (await a.apiKey('member')).headers,
    ]) {
      await t.http().get(path).set(headers).expect(200);
      await create({}, headers).expect(403);
      await t
        .http()
        .patch(`${path}/${created.id}`)
        .set(headers)
        .send({ status: 'active' })
        .expect(403);
      await t.http().delete(`${path}/${created.id}`).set(headers).expect(403);
    }
    expect((await stored(created.id)).status).toBe('pending');
  });

  it('hides one tenant’s instances and endpoints from another (404)', async () => {
    const created = (await create({}).expect(201)).body;
    const other = await TenantSession.create(t, 'C');
    const key = await other.apiKey('admin');
    for (const headers of [other.admin, key.headers]) {
      await t.http().get(path).set(headers).expect(404);
      await create({}, headers).expect(404);
      await t
        .http()
        .patch(`${path}/${created.id}`)
        .set(headers)
        .send({ status: 'active' })
        .expect(404);
      await t.http().delete(`${path}/${created.id}`).set(headers).expect(404);
    }
    const otherInstance = await other.instance();
    await t
      .http()
      .patch(`/v1/instances/${otherInstance}/channels/${created.id}`)
      .set(other.admin)
      .send({ status: 'active' })
      .expect(404);
    expect((await stored(created.id)).status).toBe('pending');
  });

  it('documents the four routes under "Channels" with the seeds’ summaries', async () => {
    const doc = (await t.http().get('/openapi.json').expect(200)).body;
    expect(doc.paths['/v1/instances/{instance_id}/channels'].get).toMatchObject({
      summary: 'List Instance Channels',
      tags: ['Channels'],
    });
    expect(doc.paths['/v1/instances/{instance_id}/channels'].post.summary).toBe(
      'Create Channel Endpoint',
    );
    expect(doc.paths['/v1/instances/{instance_id}/channels/{endpoint_id}'].patch.summary).toBe(
      'Update Channel Endpoint',
    );
    expect(doc.paths['/v1/instances/{instance_id}/channels/{endpoint_id}'].delete.summary).toBe(
      'Delete Channel Endpoint',
    );
    const create = doc.components.schemas.CreateChannelDto;
    expect(create.properties.provider.maxLength).toBe(50);
    expect(create.properties.enabled.default).toBe(true);
    expect(create.properties.webhook_secret.writeOnly).toBe(true);
    expect(doc.components.schemas.ChannelEndpoint.properties).toHaveProperty('has_webhook_secret');
    expect(doc.components.schemas.ChannelEndpoint.properties).not.toHaveProperty('webhook_secret');
  });
});
