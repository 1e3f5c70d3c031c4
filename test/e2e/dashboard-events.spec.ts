import { TenantDb } from '../../src/database/tenant-db';
import { EventLogService, NewEvent } from '../../src/event-log/event-log.service';
import { EventSequencer } from '../../src/event-log/event-sequencer';
import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

interface Shown {
  id: string;
  type: string;
  sequence: number;
  customer_id: string | null;
  instance_id: string | null;
}

/** A tenant with two customers and two instances, and events of each, numbered. */
interface Tenant {
  session: TenantSession;
  c1: string;
  c2: string;
  i1: string;
  i2: string;
  /** Event ids by type, in the order recorded. */
  ids: Record<string, string>;
}

describe('the dashboard event log', () => {
  let t: TestApp;
  let a: Tenant;
  let b: Tenant;

  /** Records `events` in one committed transaction of the tenant and numbers them. */
  const commit = async (tenantId: string, events: NewEvent[]) => {
    const log = t.app.get(EventLogService);
    const ids = await t.app.get(TenantDb).run(tenantId, () => log.record(tenantId, ...events));
    await t.app.get(EventSequencer).sweep();
    return ids;
  };

  async function tenant(name: string): Promise<Tenant> {
    const session = await TenantSession.create(t, name);
    const [c1, c2] = [await session.customer('One'), await session.customer('Two')];
    const [i1, i2] = [await session.instance('Main'), await session.instance('Spare')];
    const events: NewEvent[] = [
      { type: 'test.c1_i1', customerId: c1, instanceId: i1, data: { n: 1 } },
      { type: 'test.c2_i1', customerId: c2, instanceId: i1, data: { n: 2 } },
      { type: 'test.c1_i2', customerId: c1, instanceId: i2, data: { n: 3 } },
      { type: 'test.tenant', data: { n: 4 } },
      { type: 'test.c2_none', customerId: c2, data: { n: 5 } },
    ];
    const ids = await commit(session.tenantId, events);
    return {
      session,
      c1,
      c2,
      i1,
      i2,
      ids: Object.fromEntries(events.map((e, n) => [e.type, ids[n]])),
    };
  }

  const list = (headers: Record<string, string>, query: Record<string, string | number> = {}) =>
    t.http().get('/v1/events').set(headers).query(query);
  const types = (body: { events: Shown[] }) => body.events.map((e) => e.type);

  beforeAll(async () => {
    t = await startTestApp();
    a = await tenant('Alpha');
    b = await tenant('Beta');
  });
  afterAll(() => t.close());

  it("lists the tenant's events oldest first, and only its own", async () => {
    const res = await list(a.session.admin);
    expect(res.status).toBe(200);
    expect(types(res.body)).toEqual([
      'test.c1_i1',
      'test.c2_i1',
      'test.c1_i2',
      'test.tenant',
      'test.c2_none',
    ]);
    expect(res.body).toMatchObject({ next_after: 5, has_more: false });
    expect(res.body.events.map((e: Shown) => e.sequence)).toEqual([1, 2, 3, 4, 5]);
    expect(res.body.events[0]).toEqual({
      id: a.ids['test.c1_i1'],
      type: 'test.c1_i1',
      sequence: 1,
      occurred_at: expect.any(String),
      tenant_id: a.session.tenantId,
      instance_id: a.i1,
      customer_id: a.c1,
      caused_by: null,
      data: { n: 1 },
    });
    const text = JSON.stringify(res.body);
    for (const id of [b.session.tenantId, b.c1, b.c2, b.i1, b.i2, ...Object.values(b.ids)]) {
      expect(text).not.toContain(id);
    }
  });

  it('filters by type, customer and instance, and pages by next_after', async () => {
    const admin = a.session.admin;
    expect(types((await list(admin, { type: 'test.tenant' })).body)).toEqual(['test.tenant']);
    expect(types((await list(admin, { customer_id: a.c2 })).body)).toEqual([
      'test.c2_i1',
      'test.c2_none',
    ]);
    // An instance's own events, not the tenant's events of no instance (as the feed shows it).
    expect(types((await list(admin, { instance_id: a.i1 })).body)).toEqual([
      'test.c1_i1',
      'test.c2_i1',
    ]);
    expect(
      types((await list(admin, { customer_id: a.c1, instance_id: a.i2, type: 'test.c1_i2' })).body),
    ).toEqual(['test.c1_i2']);
    // Upper-case UUIDs are the same ids.
    expect(types((await list(admin, { customer_id: a.c2.toUpperCase() })).body)).toHaveLength(2);

    const first = await list(admin, { limit: 2 });
    expect(first.body).toMatchObject({ next_after: 2, has_more: true });
    const second = await list(admin, { after: first.body.next_after, limit: 2 });
    expect(types(second.body)).toEqual(['test.c1_i2', 'test.tenant']);
    const last = await list(admin, { after: second.body.next_after, limit: 2 });
    expect(last.body).toMatchObject({ next_after: 5, has_more: false });
    const past = await list(admin, { after: 5 });
    expect(past.body).toEqual({ events: [], next_after: 5, has_more: false });
  });

  it("confines a customer admin to its own customer's events", async () => {
    const admin = a.session.customerAdmin(a.c1);
    // No filter: its own customer's, not another customer's nor the tenant's of no customer.
    expect(types((await list(admin)).body)).toEqual(['test.c1_i1', 'test.c1_i2']);
    expect(types((await list(admin, { customer_id: a.c1 })).body)).toHaveLength(2);
    expect(types((await list(admin, { instance_id: a.i1 })).body)).toEqual(['test.c1_i1']);
    const other = await list(admin, { customer_id: a.c2 });
    expect(other.status).toBe(403);
    expect(other.body).toEqual({ detail: 'Not allowed for this customer' });

    const get = (id: string) => t.http().get(`/v1/events/${id}`).set(admin);
    expect((await get(a.ids['test.c1_i1'])).status).toBe(200);
    expect((await get(a.ids['test.c2_i1'])).status).toBe(403);
    expect((await get(a.ids['test.tenant'])).status).toBe(403);
  });

  it('is for admins: a member is refused', async () => {
    for (const member of [a.session.member(a.c1), a.session.member()]) {
      expect((await list(member)).status).toBe(403);
      expect((await t.http().get(`/v1/events/${a.ids['test.c1_i1']}`).set(member)).status).toBe(
        403,
      );
    }
    expect((await t.http().get('/v1/events')).status).toBe(401);
  });

  it('shows one event with its rule evaluations', async () => {
    const id = a.ids['test.c2_i1'];
    const res = await t.http().get(`/v1/events/${id}`).set(a.session.admin);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id,
      type: 'test.c2_i1',
      sequence: 2,
      occurred_at: expect.any(String),
      tenant_id: a.session.tenantId,
      instance_id: a.i1,
      customer_id: a.c2,
      caused_by: null,
      data: { n: 2 },
      rule_evaluations: [],
    });
    const upper = await t.http().get(`/v1/events/${id.toUpperCase()}`).set(a.session.admin);
    expect(upper.body.id).toBe(id);
  });

  it("answers 404 for another tenant's event, an unknown one and one not yet numbered", async () => {
    const get = (id: string, headers = a.session.admin) =>
      t.http().get(`/v1/events/${id}`).set(headers);
    const theirs = await get(b.ids['test.c1_i1']);
    expect(theirs.status).toBe(404);
    expect(theirs.body).toEqual({ detail: 'Event not found' });
    // Their customer admin neither: 404, not 403, for a row that does not exist for it.
    expect((await get(a.ids['test.c1_i1'], b.session.customerAdmin(b.c1))).status).toBe(404);
    expect((await get('00000000-0000-4000-8000-000000000000')).status).toBe(404);

    // Committed but not numbered: the tenant's counter is held, so the sequencer cannot start.
    const holder = await t.raw.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT last FROM event_sequences WHERE tenant_id = $1 FOR UPDATE', [
        a.session.tenantId,
      ]);
      const log = t.app.get(EventLogService);
      const [waiting] = await t.app
        .get(TenantDb)
        .run(a.session.tenantId, () =>
          log.record(a.session.tenantId, { type: 'test.late', data: {} }),
        );
      expect((await get(waiting)).status).toBe(404);
      expect((await list(a.session.admin, { type: 'test.late' })).body.events).toEqual([]);
      await holder.query('ROLLBACK');
      await t.app.get(EventSequencer).sweep();
      expect((await get(waiting)).status).toBe(200);
    } finally {
      holder.release();
    }
  });

  it("does not let a tenant's filters name another tenant's rows", async () => {
    for (const query of [{ customer_id: b.c1 }, { instance_id: b.i1 }] as Record<
      string,
      string
    >[]) {
      const res = await list(a.session.admin, query);
      expect(res.status).toBe(200);
      expect(res.body.events).toEqual([]);
    }
    // Another tenant's customer is not its own customer either.
    expect((await list(a.session.customerAdmin(a.c1), { customer_id: b.c1 })).status).toBe(403);
  });

  it.each([
    [{ limit: 0 }, 'limit'],
    [{ limit: 501 }, 'limit'],
    [{ after: -1 }, 'after'],
    [{ after: 'x' }, 'after'],
    [{ type: 'a,b' }, 'type'],
    [{ type: 'x'.repeat(101) }, 'type'],
    [{ type: '' }, 'type'],
    [{ customer_id: 'nope' }, 'customer_id'],
    [{ instance_id: '123' }, 'instance_id'],
  ])('refuses %j with a 422 at its field', async (query, field) => {
    const res = await list(a.session.admin, query);
    expect(res.status).toBe(422);
    expect(res.body.detail).toEqual([
      { loc: ['query', field], msg: expect.any(String), type: expect.any(String) },
    ]);
  });

  it('refuses an event id that is not a UUID at its path', async () => {
    const res = await t.http().get('/v1/events/not-a-uuid').set(a.session.admin);
    expect(res.status).toBe(422);
    expect(res.body.detail[0].loc).toEqual(['path', 'event_id']);
  });

  it('describes both routes in /openapi.json', async () => {
    const doc = (await t.http().get('/openapi.json').expect(200)).body;
    for (const [path, status] of [
      ['/v1/events', '200'],
      ['/v1/events/{event_id}', '200'],
    ]) {
      const op = doc.paths[path].get;
      expect(op.summary).toEqual(expect.any(String));
      expect(op.description).toMatch(/admin/);
      expect(op.responses[status].content['application/json'].example).toBeDefined();
    }
    const params = doc.paths['/v1/events'].get.parameters.map((p: { name: string }) => p.name);
    expect(params.sort()).toEqual(['after', 'customer_id', 'instance_id', 'limit', 'type']);
    const detail = doc.components.schemas.EventDetail;
    expect(detail.properties.rule_evaluations).toMatchObject({
      type: 'array',
      description: expect.stringMatching(/rules evaluated/),
    });
    expect(detail.required).toContain('rule_evaluations');
  });
});
