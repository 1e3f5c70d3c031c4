import { TenantSession } from '../helpers/factories';
import { WorkflowWorld, workflowWorld } from '../helpers/workflow-world';

/** The `Idempotency-Key` header on the runtime's creating POSTs. */
describe('Idempotency-Key header', () => {
  let world: WorkflowWorld;
  let { t, a, customer, instance, runtime, base } = {} as WorkflowWorld;

  beforeAll(async () => {
    world = await workflowWorld();
    ({ t, a, customer, instance, runtime, base } = world);
  });
  afterAll(() => world.t.close());

  let n = 0;
  const nextKey = () => `key-${++n}-${Date.now()}`;
  const body = (extra: object = {}) => ({
    customer_id: customer,
    workflow_type: 'rent_arrears',
    ...extra,
  });
  const create = (key: string | null, sent: object, headers = runtime, url = base) => {
    const req = t.http().post(url).set(headers);
    if (key !== null) void req.set('Idempotency-Key', key);
    return req.send(sent);
  };
  const workflowsOf = async (instanceId: string) =>
    Number(
      (await t.raw.query('SELECT count(*) FROM workflows WHERE instance_id = $1', [instanceId]))
        .rows[0].count,
    );
  const keyRows = async (key: string) =>
    (
      await t.raw.query(
        'SELECT instance_id, route, status, response, created_at FROM idempotency_keys WHERE key = $1',
        [key],
      )
    ).rows as { instance_id: string; status: number | null; response: string | null }[];

  it('20 concurrent identical creates with one key make one workflow and 20 identical answers', async () => {
    const key = nextKey();
    const before = await workflowsOf(instance);
    const sent = body({ title: 'Once', workflow_state: { b: 1, a: [1, 2] } });
    const answers = await Promise.all(Array.from({ length: 20 }, () => create(key, sent)));
    expect(await workflowsOf(instance)).toBe(before + 1);
    const first = answers[0];
    expect(first.status).toBe(201);
    for (const res of answers) {
      expect(res.status).toBe(201);
      expect(res.text).toBe(first.text);
      expect(res.headers['content-type']).toBe(first.headers['content-type']);
    }
    // One of them did the work; the rest say they are replays.
    expect(answers.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(19);
    const rows = await keyRows(key);
    expect(rows).toEqual([expect.objectContaining({ instance_id: instance, status: 201 })]);
    expect(rows[0].response).toBe(first.text);
  });

  it('replays for the same fields sent in another order', async () => {
    const key = nextKey();
    const first = await create(key, body({ title: 'T', stage: 's' })).expect(201);
    const again = await create(key, {
      stage: 's',
      title: 'T',
      workflow_type: 'rent_arrears',
      customer_id: customer,
    }).expect(201);
    expect(again.text).toBe(first.text);
  });

  it('refuses the key with a different body or route (409) and writes nothing', async () => {
    const key = nextKey();
    const first = await create(key, body({ title: 'A' })).expect(201);
    const before = await workflowsOf(instance);
    const rowBefore = await keyRows(key);

    const other = await create(key, body({ title: 'B' })).expect(409);
    expect(other.body).toEqual({ detail: 'Idempotency-Key reused with a different request' });
    const elsewhere = await t
      .http()
      .post(`${base}/${first.body.id}/suspend`)
      .set(runtime)
      .set('Idempotency-Key', key)
      .send({ step: 'wait' })
      .expect(409);
    expect(elsewhere.body).toEqual({ detail: 'Idempotency-Key reused with a different request' });

    expect(await workflowsOf(instance)).toBe(before);
    expect(await keyRows(key)).toEqual(rowBefore);
    const stored = await t.raw.query('SELECT status FROM workflows WHERE id = $1', [first.body.id]);
    expect(stored.rows[0].status).toBe('active');
  });

  it('keeps keys per instance: another instance with the same key gets its own effect', async () => {
    const key = nextKey();
    const other = await a.instance();
    const otherRuntime = (await a.proxyKey(other)).headers;
    const otherBase = `/internal/v1/instances/${other}/workflows`;
    const mine = await create(key, body()).expect(201);
    const theirs = await create(key, body(), otherRuntime, otherBase).expect(201);
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect(theirs.body.instance_id).toBe(other);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(await workflowsOf(other)).toBe(1);
    expect((await keyRows(key)).map((r) => r.instance_id).sort()).toEqual([instance, other].sort());
  });

  it('keeps no refusal: a 422 then the fixed body under the same key creates, once', async () => {
    const key = nextKey();
    const before = await workflowsOf(instance);
    const refused = await create(key, { workflow_type: 'rent_arrears' }).expect(422);
    expect(refused.body.detail[0].loc).toEqual(['body', 'customer_id']);
    expect(await keyRows(key)).toEqual([]);

    const fixed = await create(key, body()).expect(201);
    expect(fixed.headers['idempotent-replayed']).toBeUndefined();
    const again = await create(key, body()).expect(201);
    expect(again.text).toBe(fixed.text);
    expect(await workflowsOf(instance)).toBe(before + 1);
  });

  it('keeps no failure after the work started: a 404 suspend, then a retry runs afresh', async () => {
    const key = nextKey();
    const w = (await create(null, body()).expect(201)).body as { id: string };
    const missing = '00000000-0000-4000-8000-000000000000';
    await t
      .http()
      .post(`${base}/${missing}/suspend`)
      .set(runtime)
      .set('Idempotency-Key', key)
      .send({ step: 'wait' })
      .expect(404);
    expect(await keyRows(key)).toEqual([]);
    const suspend = () =>
      t
        .http()
        .post(`${base}/${w.id}/suspend`)
        .set(runtime)
        .set('Idempotency-Key', key)
        .send({ step: 'wait' });
    const done = await suspend().expect(200);
    const again = await suspend().expect(200); // without the key the second would be a 409
    expect(again.text).toBe(done.text);
  });

  it('forgets a key after 24 hours: the same request makes a new effect', async () => {
    const key = nextKey();
    const first = await create(key, body()).expect(201);
    await t.raw.query(
      `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1`,
      [key],
    );
    const later = await create(key, body()).expect(201);
    expect(later.body.id).not.toBe(first.body.id);
    expect(later.headers['idempotent-replayed']).toBeUndefined();
    const rows = await keyRows(key);
    expect(rows).toHaveLength(1);
    expect(rows[0].response).toBe(later.text);
  });

  it('purges expired keys of the instance as new keys are claimed', async () => {
    const stale = nextKey();
    await create(stale, body()).expect(201);
    await t.raw.query(
      `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1`,
      [stale],
    );
    await create(nextKey(), body()).expect(201);
    expect(await keyRows(stale)).toEqual([]);
  });

  it('refuses a key that is empty, too long or not printable ASCII (422 at the header)', async () => {
    const before = await workflowsOf(instance);
    for (const key of ['', 'x'.repeat(256), 'a\tb']) {
      const res = await create(key, body()).expect(422);
      expect(res.body.detail).toEqual([
        expect.objectContaining({ loc: ['header', 'idempotency-key'] }),
      ]);
    }
    expect(await workflowsOf(instance)).toBe(before);
    await create('x'.repeat(255), body()).expect(201);
  });

  it('takes the header and the body idempotency_key of an event together', async () => {
    const events = `/internal/v1/instances/${instance}/events`;
    const report = (key: string, bodyKey: string, payload: object = {}) =>
      t
        .http()
        .post(events)
        .set(runtime)
        .set('Idempotency-Key', key)
        .send({ event: 'skill.invoked', customer_id: customer, payload, idempotency_key: bodyKey });
    const key = nextKey();
    const first = await report(key, 'body-1').expect(200);
    const replay = await report(key, 'body-1').expect(200);
    expect(replay.text).toBe(first.text);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    // Another header key, the same body key: the events service answers from its own receipt.
    const byBodyKey = await report(nextKey(), 'body-1').expect(200);
    expect(byBodyKey.body).toEqual(first.body);
    expect(byBodyKey.headers['idempotent-replayed']).toBeUndefined();
    // The body key still refuses a different event under it.
    await report(nextKey(), 'body-1', { other: true }).expect(409);
    await report(key, 'body-2').expect(409);
  });

  it('ignores the header on a route without support, and keeps nothing for it', async () => {
    const key = nextKey();
    const w = (await create(null, body()).expect(201)).body as { id: string };
    const advance = () =>
      t
        .http()
        .patch(`${base}/${w.id}`)
        .set(runtime)
        .set('Idempotency-Key', key)
        .send({ action: 'noted' })
        .expect(200);
    await advance();
    await advance();
    const history = await t.raw.query('SELECT history FROM workflows WHERE id = $1', [w.id]);
    expect(history.rows[0].history).toHaveLength(3); // created + two notes
    expect(await keyRows(key)).toEqual([]);
  });

  it('scopes keys to the tenant too', async () => {
    const b = await TenantSession.create(t, 'B');
    const bCustomer = await b.customer();
    const bInstance = await b.instance();
    const bRuntime = (await b.proxyKey(bInstance)).headers;
    const key = nextKey();
    const mine = await create(key, body()).expect(201);
    const theirs = await create(
      key,
      { customer_id: bCustomer, workflow_type: 'rent_arrears' },
      bRuntime,
      `/internal/v1/instances/${bInstance}/workflows`,
    ).expect(201);
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect(theirs.body.tenant_id).toBe(b.tenantId);
  });
});
