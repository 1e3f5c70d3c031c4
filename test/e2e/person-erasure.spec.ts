import { EventSequencer } from '../../src/event-log/event-sequencer';
import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';
import { holdLock, lockWaiters, until } from '../helpers/locks';

/** Tables whose rows, as text, contain `needle`: the whole database is searched. */
async function tablesHolding(t: TestApp, needle: string): Promise<string[]> {
  const { rows } = await t.raw.query<{ name: string }>(
    `SELECT quote_ident(table_name) AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
  );
  const found: string[] = [];
  for (const { name } of rows) {
    const res = await t.raw.query(`SELECT 1 FROM ${name} x WHERE x::text ILIKE $1 LIMIT 1`, [
      `%${needle}%`,
    ]);
    if (res.rowCount) found.push(name);
  }
  return found;
}

describe('persons: read, update and erasure', () => {
  let t: TestApp;
  let a: TenantSession;
  let customer: string;
  let instance: string;
  let proxy: Record<string, string>;
  beforeAll(async () => {
    t = await startTestApp();
    a = await TenantSession.create(t);
    customer = await a.customer();
    instance = await a.instance();
    proxy = (await a.proxyKey(instance)).headers;
  });
  afterAll(() => t.close());

  const url = (person: string) => `/v1/customers/${customer}/persons/${person}`;
  const bindings = () => `/internal/v1/instances/${instance}/worker-bindings`;

  async function person(body: object): Promise<string> {
    const res = await t.http().post(`/v1/customers/${customer}/persons`).set(a.admin).send(body);
    expect(res.status).toBe(201);
    return res.body.id;
  }

  async function bind(personId: string, channelType: string, address: string) {
    const res = await t.http().post(bindings()).set(proxy).send({
      customer_id: customer,
      person_id: personId,
      channel_type: channelType,
      channel_address: address,
    });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  it('reads and updates a person, validating as at creation', async () => {
    const id = await person({ name: 'Grace', email: 'grace@example.com', phone: '+447700900001' });
    const got = await t.http().get(url(id)).set(a.admin).expect(200);
    expect(got.body).toMatchObject({ id, name: 'Grace', email: 'grace@example.com' });

    const patched = await t
      .http()
      .patch(url(id))
      .set(a.admin)
      .send({ email: ' Grace.H@Example.com ', phone: null })
      .expect(200);
    expect(patched.body).toMatchObject({
      name: 'Grace',
      email: 'grace.h@example.com',
      phone: null,
    });
    const { rows } = await t.raw.query('SELECT name, email, phone FROM persons WHERE id = $1', [
      id,
    ]);
    expect(rows).toEqual([{ name: 'Grace', email: 'grace.h@example.com', phone: null }]);

    for (const [body, field] of [
      [{ email: 'not-an-email' }, 'email'],
      [{ name: '' }, 'name'],
      [{ name: null }, 'name'],
      [{ phone: 'x'.repeat(33) }, 'phone'],
    ] as const) {
      const res = await t.http().patch(url(id)).set(a.admin).send(body).expect(422);
      expect(res.body.detail[0].loc).toEqual(['body', field]);
    }
    const other = await a.customer();
    await t.http().get(`/v1/customers/${other}/persons/${id}`).set(a.admin).expect(404);
    await t.http().get(url(id)).set(a.member()).expect(403);
  });

  it('erases a person: gone from every answer and every table, bindings revoked', async () => {
    const name = 'Erasable Person';
    const email = 'erasable.person@example.com';
    const phone = '+447700900777';
    const id = await person({ name, email, phone });
    const live = await bind(id, 'whatsapp', phone);
    const mail = await bind(id, 'email', email);
    await t.http().post(`${bindings()}/${mail}/verify`).set(proxy).expect(200);
    // A binding revoked before the erasure carried the address too.
    const earlier = await bind(id, 'sms', '+447700900778');
    await t.http().post(`${bindings()}/${earlier}/revoke`).set(proxy).expect(200);

    await t.http().delete(url(id)).set(a.admin).expect(204);

    const { rows: stored } = await t.raw.query(
      'SELECT name, email, phone, erased_at IS NOT NULL AS erased FROM persons WHERE id = $1',
      [id],
    );
    expect(stored).toEqual([{ name: 'erased', email: null, phone: null, erased: true }]);
    const { rows: bound } = await t.raw.query(
      'SELECT id, status, channel_address FROM worker_bindings WHERE person_id = $1 ORDER BY id',
      [id],
    );
    expect(bound).toEqual(
      [live, mail, earlier]
        .sort()
        .map((b) => ({ id: b, status: 'revoked', channel_address: `erased:${b}` })),
    );
    const { rows: revokedEvents } = await t.raw.query(
      `SELECT data->'binding'->>'id' AS id, data->'binding'->>'channel_address' AS address
         FROM events WHERE type = 'binding.revoked' AND data->'binding'->>'person_id' = $1
        ORDER BY 1, position`,
      [id],
    );
    // One for the earlier revocation, one each for the two live bindings the erasure revoked.
    expect(revokedEvents).toEqual(
      [earlier, live, mail].sort().map((b) => ({ id: b, address: `erased:${b}` })),
    );
    // The rewritten events' sizes, which end their feed pages, are those of their new data.
    const { rows: sized } = await t.raw.query(
      `SELECT count(*)::int AS n FROM events
        WHERE data->'binding'->>'person_id' = $1 AND data_bytes = octet_length(data::text)`,
      [id],
    );
    expect(sized).toEqual([{ n: 7 }]);
    for (const needle of [name, email, phone, '+447700900778', '447700900777']) {
      expect({ needle, tables: await tablesHolding(t, needle) }).toEqual({ needle, tables: [] });
    }
    // The two it revoked are audited as a revocation is, their address withheld.
    const { rows: audited } = await t.raw.query(
      `SELECT target_id, changes->'status' AS status, changes ? 'channel_address' AS address
         FROM audit_log WHERE action = 'binding.revoked' AND target_id = ANY($1) ORDER BY target_id`,
      [[live, mail]],
    );
    expect(audited).toEqual(
      [
        { target_id: live, status: ['unverified', 'revoked'], address: false },
        { target_id: mail, status: ['verified', 'revoked'], address: false },
      ].sort((x, y) => x.target_id.localeCompare(y.target_id)),
    );

    await t.app.get(EventSequencer).sweep();
    const answers = await Promise.all([
      t.http().get(`/v1/customers/${customer}/persons`).set(a.admin),
      t.http().get(`/v1/customers/${customer}/worker-bindings`).set(a.admin),
      t.http().get(`${bindings()}?customer_id=${customer}`).set(proxy),
      t.http().get('/v1/events?limit=200').set(a.admin),
    ]);
    for (const res of answers) {
      expect(res.status).toBe(200);
      for (const needle of [name, email, phone, '+447700900778'])
        expect(JSON.stringify(res.body)).not.toContain(needle);
    }
    expect(answers[0].body.persons.map((p: { id: string }) => p.id)).not.toContain(id);

    // The person is gone to every route; a second erasure is a 404.
    await t.http().get(url(id)).set(a.admin).expect(404);
    await t.http().patch(url(id)).set(a.admin).send({ name: 'Back' }).expect(404);
    await t.http().delete(url(id)).set(a.admin).expect(404);
    const rebound = await t
      .http()
      .post(bindings())
      .set(proxy)
      .send({ customer_id: customer, person_id: id, channel_type: 'sms', channel_address: phone });
    expect(rebound.status).toBe(422);

    // The addresses are free again, for another person.
    const next = await person({ name: 'Next' });
    await bind(next, 'whatsapp', phone);
    await bind(next, 'email', email);
  });

  it('erases the addresses kept in idempotent answers; a replay shows the tombstone', async () => {
    const id = await person({ name: 'Keyed Person' });
    const [first, second] = ['+447700900781', '+447700900782'];
    const keyed = (key: string) => ({ ...proxy, 'Idempotency-Key': key });
    const create = {
      customer_id: customer,
      person_id: id,
      channel_type: 'sms',
      channel_address: first,
    };
    const made = await t.http().post(bindings()).set(keyed('erase-create')).send(create);
    expect(made.status).toBe(201);
    const rebind = () =>
      t
        .http()
        .post(`${bindings()}/${made.body.id}/rebind`)
        .set(keyed('erase-rebind'))
        .send({ new_address: second });
    const moved = await rebind();
    expect(moved.status).toBe(201);

    await t.http().delete(url(id)).set(a.admin).expect(204);
    for (const needle of [first, second, '447700900781', '447700900782']) {
      expect({ needle, tables: await tablesHolding(t, needle) }).toEqual({ needle, tables: [] });
    }
    const replays = [
      await t.http().post(bindings()).set(keyed('erase-create')).send(create),
      await rebind(),
    ];
    for (const [res, was] of [
      [replays[0], made],
      [replays[1], moved],
    ] as const) {
      expect(res.status).toBe(201);
      expect(res.headers['idempotent-replayed']).toBe('true');
      expect(res.body).toEqual({ ...was.body, channel_address: `erased:${was.body.id}` });
    }
  });

  it.each(['created', 'rebound'])(
    'tombstones a binding %s while its person is being erased',
    async (how) => {
      const racer = await person({ name: 'Racer' });
      const other = await person({ name: 'Blocker' });
      const address = `racer-${how}@example.com`;
      const first = how === 'rebound' ? await bind(racer, 'email', `old-${address}`) : null;
      // An uncommitted binding of the same address holds the new one's INSERT (the live-address
      // index) after it has checked its person: the erasure runs in that window.
      const release = await holdLock(
        t,
        `INSERT INTO worker_bindings (tenant_id, customer_id, person_id, channel_type, channel_address)
         VALUES ($1, $2, $3, 'email', $4)`,
        [a.tenantId, customer, other, address],
      );
      try {
        const made = (
          first
            ? t.http().post(`${bindings()}/${first}/rebind`).send({ new_address: address })
            : t.http().post(bindings()).send({
                customer_id: customer,
                person_id: racer,
                channel_type: 'email',
                channel_address: address,
              })
        )
          .set(proxy)
          .then((res) => res);
        await until(async () => (await lockWaiters(t)) === 1);
        const erased = t
          .http()
          .delete(url(racer))
          .set(a.admin)
          .then((res) => res);
        await until(async () => (await lockWaiters(t)) === 2); // the erasure waits for it
        await release();
        expect((await made).status).toBe(201);
        expect((await erased).status).toBe(204);
      } finally {
        await release(); // once only: a second call does nothing
      }
      const { rows } = await t.raw.query<{ channel_address: string; status: string }>(
        'SELECT channel_address, status FROM worker_bindings WHERE person_id = $1',
        [racer],
      );
      expect(rows).toHaveLength(first ? 2 : 1);
      for (const row of rows) {
        expect(row.channel_address).toMatch(/^erased:/);
        expect(row.status).toBe('revoked');
      }
      await bind(other, 'email', address); // the address is free again
    },
  );

  it('erases a person without bindings, and refuses an unknown one', async () => {
    const id = await person({ name: 'Solo' });
    await t.http().delete(url(id)).set(a.admin).expect(204);
    await t.http().delete(url('00000000-0000-4000-8000-000000000000')).set(a.admin).expect(404);
  });
});
