import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

/** GET /internal/v1/instances/{instance_id}/channels: the runtime's own endpoints. */
describe('runtime channel list', () => {
  let t: TestApp;
  let a: TenantSession;
  let instance: string;
  let otherInstance: string;
  let runtime: Record<string, string>;
  let otherRuntime: Record<string, string>;
  let runtimeB: Record<string, string>;
  const ids: Record<string, string> = {};

  const endpoint = async (name: string, instanceId: string, body: object) => {
    const res = await t.http().post(`/v1/instances/${instanceId}/channels`).set(a.admin).send(body);
    if (res.status !== 201) throw new Error(`${name}: ${res.status} ${JSON.stringify(res.body)}`);
    ids[name] = res.body.id;
    return res.body;
  };

  beforeAll(async () => {
    t = await startTestApp();
    a = await TenantSession.create(t, 'A');
    const b = await TenantSession.create(t, 'B');
    instance = await a.instance('Main');
    otherInstance = await a.instance('Spare');
    runtime = (await a.proxyKey(instance)).headers;
    otherRuntime = (await a.proxyKey(otherInstance)).headers;
    runtimeB = (await b.proxyKey(await b.instance())).headers;
    // Made one after another, so the list's newest-first order is this one reversed.
    const mine = (type: string, provider: string, id: string, more = {}) => ({
      channel_type: type,
      provider,
      external_identifier: id,
      ...more,
    });
    await endpoint('waTwilio', instance, mine('whatsapp', 'twilio', '+44 (0)7700 900201'));
    await endpoint('waMeta', instance, mine('whatsapp', 'meta_cloud', '1234567890'));
    await endpoint('sms', instance, mine('sms', 'twilio', '+447700900202'));
    await endpoint('telegram', instance, mine('telegram', 'telegram', '@hc_main_bot'));
    await endpoint(
      'email',
      instance,
      mine('email', 'resend', 'ops@example.com', { webhook_secret: 'whsec_never-shown' }),
    );
    await endpoint('spareWa', otherInstance, mine('whatsapp', 'twilio', '+447700900299'));
    await endpoint('spareTelegram', otherInstance, mine('telegram', 'telegram', '@hc_spare_bot'));
  });
  afterAll(() => t.close());

  const list = (query: Record<string, string> = {}, headers = runtime, instanceId = instance) =>
    t.http().get(`/internal/v1/instances/${instanceId}/channels`).query(query).set(headers);
  const listed = async (query: Record<string, string>) => {
    const res = await list(query).expect(200);
    expect(res.body.count).toBe(res.body.channels.length);
    return (res.body.channels as { id: string }[]).map((c) => c.id);
  };
  const named = (...names: string[]) => names.map((n) => ids[n]);

  it("lists the instance's endpoints newest first, as the dashboard shows them", async () => {
    const res = await list().expect(200);
    const dashboard = await t.http().get(`/v1/instances/${instance}/channels`).set(a.admin);
    expect(res.body).toEqual(dashboard.body);
    expect(res.body.channels.map((c: { id: string }) => c.id)).toEqual(
      named('email', 'telegram', 'sms', 'waMeta', 'waTwilio'),
    );
    const email = res.body.channels[0];
    expect(email.has_webhook_secret).toBe(true);
    expect(JSON.stringify(res.body)).not.toMatch(/"webhook_secret"|whsec_/);
    expect(res.body.channels[4].external_identifier).toBe('+447700900201');
  });

  it.each([
    [{ channel_type: 'whatsapp' }, ['waMeta', 'waTwilio']],
    [{ channel_type: 'web_chat' }, []],
    [{ provider: 'twilio' }, ['sms', 'waTwilio']],
    [{ channel_type: 'whatsapp', provider: 'twilio' }, ['waTwilio']],
    [{ channel_type: 'sms', provider: 'meta_cloud' }, []],
    [{ external_identifier: '+447700900201' }, ['waTwilio']],
    [{ external_identifier: '+44 (0) 7700 900201' }, ['waTwilio']],
    [{ external_identifier: '0044 7700 900-201', channel_type: 'whatsapp' }, ['waTwilio']],
    [{ external_identifier: '+44 7700 900201', channel_type: 'sms' }, []],
    [{ external_identifier: '0044 7700 900202', provider: 'twilio' }, ['sms']],
    [{ external_identifier: '1234567890' }, ['waMeta']],
    [{ external_identifier: '@hc_main_bot', channel_type: 'telegram' }, ['telegram']],
    [{ external_identifier: 'ops@example.com' }, ['email']],
    // a phone-like identifier that is no number can still be another channel's identifier
    [{ external_identifier: '+44 call me' }, []],
  ])('filters by %j', async (query, expected) => {
    expect(await listed(query)).toEqual(named(...expected));
  });

  it("never lists another instance's endpoints, whatever the filter", async () => {
    const queries: Record<string, string>[] = [
      {},
      { channel_type: 'whatsapp' },
      { external_identifier: '+447700900299' },
      { external_identifier: '@hc_spare_bot', channel_type: 'telegram' },
    ];
    for (const query of queries) {
      const found = await listed(query);
      expect(found).not.toContain(ids.spareWa);
      expect(found).not.toContain(ids.spareTelegram);
    }
    const spare = await list({}, otherRuntime, otherInstance).expect(200);
    expect(spare.body.channels.map((c: { id: string }) => c.id)).toEqual(
      named('spareTelegram', 'spareWa'),
    );
  });

  it("refuses another instance's proxy key, and another tenant's, as the internal routes do", async () => {
    const res = await list({}, otherRuntime).expect(403);
    expect(res.body).toEqual({ detail: expect.any(String) });
    await list({}, runtimeB).expect(403);
    await list({}, {}).expect(401);
    await list({}, a.admin).expect(401);
  });

  it.each([
    [{ channel_type: 'fax' }, ['query', 'channel_type'], 'enum'],
    [{ provider: 'carrier_pigeon' }, ['query', 'provider'], 'enum'],
    [{ external_identifier: '' }, ['query', 'external_identifier'], 'string_too_short'],
    [{ external_identifier: 'x'.repeat(256) }, ['query', 'external_identifier'], 'string_too_long'],
    [
      { external_identifier: '+44 call me', channel_type: 'sms' },
      ['query', 'external_identifier'],
      'value_error',
    ],
    [
      { external_identifier: '07700 900201', channel_type: 'whatsapp' },
      ['query', 'external_identifier'],
      'value_error',
    ],
  ])('refuses %j with 422 at %j', async (query, loc, type) => {
    const res = await list(query).expect(422);
    expect(res.body.detail).toEqual([{ loc, msg: expect.any(String), type }]);
  });
});
