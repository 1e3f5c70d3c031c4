import { ClientRequest, get as httpGet } from 'node:http';
import { AddressInfo } from 'node:net';
import { jsonBytes } from '../../src/common/json-limits';
import { TenantDb } from '../../src/database/tenant-db';
import { WorkflowWorld, workflowCalls, workflowWorld } from '../helpers/workflow-world';

const KiB = 1024;
/** A JSON object of `bytes` bytes as stored (`{"text": "…"}`). */
const doc = (bytes: number) => ({ text: 'x'.repeat(bytes - 12) });

describe('stored JSON documents are bounded', () => {
  let w: WorkflowWorld;
  const { create, advance, stored } = workflowCalls(() => w);
  beforeAll(async () => {
    w = await workflowWorld();
  });
  afterAll(() => w.t.close());

  const count = async () =>
    Number((await w.t.raw.query('SELECT count(*) AS n FROM workflows')).rows[0].n);
  const expect422 = (
    res: { status: number; body: { detail: { loc: unknown[] }[] } },
    loc: unknown[],
  ) => {
    expect(res.status).toBe(422);
    expect(res.body.detail[0].loc).toEqual(loc);
  };

  it('refuses a workflow_state over 256 KiB at creation, writing nothing', async () => {
    const before = await count();
    const res = await w.t
      .http()
      .post(w.base)
      .set(w.runtime)
      .send({ customer_id: w.customer, workflow_type: 'lead', workflow_state: doc(256 * KiB + 1) });
    expect422(res, ['body', 'workflow_state']);
    expect(res.body.detail[0].type).toBe('json_too_large');
    expect(await count()).toBe(before);
    await create({ workflow_state: doc(256 * KiB) }); // at the cap: accepted
  });

  it('takes a state at its cap in the smallest values, and refuses a body of more values unread', async () => {
    const zeros = (n: number) => Array.from({ length: n }, () => 0);
    // 80,000 zeros are 240,000 bytes as stored: under the cap, in as many values as it holds.
    await create({ workflow_state: { items: zeros(80_000) } });
    const before = await count();
    const res = await w.t
      .http()
      .post(w.base)
      .set(w.runtime)
      .send({ customer_id: w.customer, workflow_type: 'lead', ignored: zeros(150_000) });
    expect422(res, ['body']);
    expect(res.body.detail[0]).toMatchObject({
      msg: 'JSON body with more than 150,000 values',
      type: 'json_too_large',
    });
    expect(await count()).toBe(before);
  });

  it('checks the state after merging, so small patches cannot grow it past the cap', async () => {
    const wf = await create({ workflow_state: { a: doc(150 * KiB) } });
    const res = await advance(wf.id, { workflow_state: { b: doc(110 * KiB) } });
    expect422(res, ['body', 'workflow_state']);
    const row = await stored(wf.id);
    expect(Object.keys(row.workflow_state)).toEqual(['a']);
    expect(row.history).toHaveLength(1);
    // The same through resume_data.
    const suspended = await w.t
      .http()
      .post(`${w.base}/${wf.id}/suspend`)
      .set(w.runtime)
      .send({ step: 's' });
    expect(suspended.status).toBe(200);
    const resumed = await w.t
      .http()
      .post(`${w.base}/${wf.id}/resume`)
      .set(w.runtime)
      .send({ resume_data: { b: doc(60 * KiB) } });
    expect(resumed.status).toBe(200); // 150 + 60 KiB fits
    const again = await advance(wf.id, { workflow_state: { c: doc(40 * KiB) } });
    expect(again.status).toBe(200); // 250 KiB
    const over = await advance(wf.id, { workflow_state: { d: doc(10 * KiB) } });
    expect422(over, ['body', 'workflow_state']);
  });

  it.each([
    ['suspend payload', 'suspend', { step: 's', payload: doc(64 * KiB + 1) }, ['body', 'payload']],
    ['resume_data', 'resume', { resume_data: doc(64 * KiB + 1) }, ['body', 'resume_data']],
  ])('refuses a %s over 64 KiB', async (_, action, body, loc) => {
    const wf = await create();
    if (action === 'resume') {
      await w.t.http().post(`${w.base}/${wf.id}/suspend`).set(w.runtime).send({ step: 's' });
    }
    const res = await w.t.http().post(`${w.base}/${wf.id}/${action}`).set(w.runtime).send(body);
    expect422(res, loc);
  });

  it('refuses an action_detail over 64 KiB', async () => {
    const wf = await create();
    expect422(await advance(wf.id, { action_detail: doc(64 * KiB + 1) }), [
      'body',
      'action_detail',
    ]);
    expect((await stored(wf.id)).history).toHaveLength(1);
  });

  it.each([
    ['beyond 2^53', '9007199254740993'],
    ['negative beyond 2^53', '-9007199254740993'],
    ['overflowing to infinity', '1e400'],
    ['a large fraction', '1.5e300'],
  ])('refuses a number %s, pointing at it, and writes nothing', async (_, number) => {
    const before = await count();
    const res = await w.t
      .http()
      .post(w.base)
      .set(w.runtime)
      .set('content-type', 'application/json')
      .send(
        `{"customer_id":"${w.customer}","workflow_type":"lead","workflow_state":{"a":[1,{"n":${number}}]}}`,
      );
    expect422(res, ['body', 'workflow_state', 'a', 1, 'n']);
    expect(res.body.detail[0].type).toBe('number_unsafe');
    expect(await count()).toBe(before);
  });

  it('keeps the largest exact integers as they were sent', async () => {
    const wf = await create({ workflow_state: { max: 9007199254740991, min: -9007199254740991 } });
    expect(wf.workflow_state).toEqual({ max: 9007199254740991, min: -9007199254740991 });
  });
});

describe('history is bounded, with room kept to close the workflow', () => {
  let w: WorkflowWorld;
  const { create, advance, stored } = workflowCalls(() => w);
  beforeAll(async () => {
    w = await workflowWorld();
  });
  afterAll(() => w.t.close());

  /** Pads a workflow's history to `entries` entries, as 998 changes would have. */
  const pad = (id: string, entries: number, detail = '') =>
    w.t.raw.query(
      `UPDATE workflows SET history = history || (SELECT jsonb_agg(jsonb_build_object(
         'at', '2030-01-01T00:00:00.000Z', 'action', 'noted', 'action_detail', $2::text,
         'actor', 'test', 'from_status', 'active', 'to_status', 'active', 'from_stage', NULL,
         'to_stage', NULL)) FROM generate_series(1, $3::int - jsonb_array_length(history)))
        WHERE id = $1`,
      [id, detail, entries],
    );

  it('refuses the change that would take the 1,000th entry unless it closes the workflow', async () => {
    const wf = await create();
    await pad(wf.id, 999);
    const res = await advance(wf.id, { stage: 'next' });
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/^History full/);
    expect((await stored(wf.id)).history).toHaveLength(999);
    const closed = await w.t.http().post(`/v1/workflows/${wf.id}/abort`).set(w.a.admin).send({});
    expect(closed.status).toBe(200);
    const row = await stored(wf.id);
    expect(row.history).toHaveLength(1000);
    expect(row.status).toBe('cancelled');
  });

  it('counts bytes too: a history of about 1 MiB is full', async () => {
    const wf = await create();
    const bytes = async () =>
      Number(
        (
          await w.t.raw.query(
            'SELECT octet_length(history::text) AS n FROM workflows WHERE id = $1',
            [wf.id],
          )
        ).rows[0].n,
      );
    await pad(wf.id, 99, 'y'.repeat(10 * KiB));
    // One more entry brings it within 2 KiB under 1 MiB: less than the room kept for closing.
    await pad(wf.id, 100, 'y'.repeat(1024 * KiB - 2 * KiB - (await bytes()) - 250));
    expect(1024 * KiB - (await bytes())).toBeGreaterThan(1 * KiB);
    expect(1024 * KiB - (await bytes())).toBeLessThan(3 * KiB);
    const res = await advance(wf.id, { stage: 'next' });
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/^History full/);
    const completed = await advance(wf.id, { status: 'completed' });
    expect(completed.status).toBe(200);
  });
});

describe('lists are bounded', () => {
  let w: WorkflowWorld;
  beforeAll(async () => {
    w = await workflowWorld();
  });
  afterAll(() => w.t.close());

  /** `n` workflows made in SQL, each with `stateBytes` of state and this status. */
  const seed = (n: number, status: string, state: string) =>
    w.t.raw.query(
      `INSERT INTO workflows (tenant_id, instance_id, customer_id, workflow_type, status, workflow_state,
          suspended_at, created_at)
       SELECT $1, $2, $3, 'lead', $4, ${state}, CASE WHEN $4 = 'suspended' THEN now() END,
              now() - make_interval(secs => g)
         FROM generate_series(1, $5::int) g`,
      [w.a.tenantId, w.instance, w.customer, status, n],
    );

  it('GET /v1/workflows/suspended returns at most `limit`, default 100, newest first', async () => {
    await seed(101, 'suspended', `'{}'::jsonb`);
    const all = await w.t.http().get('/v1/workflows/suspended').set(w.a.admin);
    expect(all.status).toBe(200);
    expect(all.body).toHaveLength(100);
    const two = await w.t.http().get('/v1/workflows/suspended?limit=2').set(w.a.admin);
    expect(two.body.map((x: { id: string }) => x.id)).toEqual(
      all.body.slice(0, 2).map((x: { id: string }) => x.id),
    );
    for (const bad of ['0', '501', 'x']) {
      const res = await w.t.http().get(`/v1/workflows/suspended?limit=${bad}`).set(w.a.admin);
      expect(res.status).toBe(422);
      expect(res.body.detail[0].loc).toEqual(['query', 'limit']);
    }
  });

  it('sends a page of the heaviest documents unparsed, and refuses one over the response budget', async () => {
    // 120 workflows of 250 KiB each: 100 of them are about 24 MiB, within the budget.
    await seed(120, 'active', `jsonb_build_object('s', repeat('a', 250 * 1024))`);
    const page = await w.t.http().get('/v1/workflows?per_page=100&status=active').set(w.a.admin);
    expect(page.status).toBe(200);
    expect(page.body.workflows).toHaveLength(100);
    expect(page.body.workflows[0].workflow_state.s).toHaveLength(250 * 1024);
    expect(page.body.total).toBe(120);
    // Read in batches and streamed, it is still the page, newest first.
    const { rows } = await w.t.raw.query(
      `SELECT id FROM workflows WHERE tenant_id = $1 AND status = 'active'
        ORDER BY created_at DESC, id DESC LIMIT 100`,
      [w.a.tenantId],
    );
    expect(page.body.workflows.map((x: { id: string }) => x.id)).toEqual(rows.map((r) => r.id));
    // Made heavier, the same page is over 28 MiB: refused, with what would fit.
    await w.t.raw.query(
      `UPDATE workflows SET workflow_state = jsonb_build_object('s', repeat('b', 300 * 1024))
        WHERE status = 'active'`,
    );
    const over = await w.t.http().get('/v1/workflows?per_page=100&status=active').set(w.a.admin);
    expect(over.status).toBe(422);
    expect(over.body.detail[0]).toMatchObject({
      loc: ['query', 'per_page'],
      type: 'page_too_large',
    });
    const fits = Number(/at most (\d+)/.exec(over.body.detail[0].msg)![1]);
    expect(fits).toBeGreaterThan(50);
    const smaller = await w.t
      .http()
      .get(`/v1/workflows?per_page=${fits}&status=active`)
      .set(w.a.admin);
    expect(smaller.status).toBe(200);
    expect(smaller.body.workflows).toHaveLength(fits);
  });
});

describe('the limits in /openapi.json', () => {
  let w: WorkflowWorld;
  beforeAll(async () => {
    w = await workflowWorld();
  });
  afterAll(() => w.t.close());

  it('shows ranges, lengths, item counts and document caps to clients', async () => {
    const doc = (await w.t.http().get('/openapi.json').expect(200)).body;
    const suspended = doc.paths['/v1/workflows/suspended'].get.parameters;
    expect(suspended).toContainEqual(
      expect.objectContaining({
        name: 'limit',
        in: 'query',
        schema: expect.objectContaining({ minimum: 1, maximum: 500, default: 100 }),
      }),
    );
    const rule = doc.components.schemas.CreateRuleDto.properties;
    expect(rule.conditions).toMatchObject({ maxItems: 50 });
    expect(rule.actions).toMatchObject({ maxItems: 10 });
    const state = doc.components.schemas.CreateWorkflowDto.properties.workflow_state;
    expect(state.description).toMatch(/256 KiB/);
    const payload = doc.components.schemas.EventDto.properties.payload;
    expect(payload.description).toMatch(/64 KiB/);
  });
});

describe('a heavy read whose client is gone', () => {
  let w: WorkflowWorld;
  beforeAll(async () => {
    w = await workflowWorld();
  });
  afterAll(() => w.t.close());

  /** A GET on a listening server whose body is not read until `drain` is called. */
  const unread = (port: number, path: string, headers: Record<string, string>) =>
    new Promise<{ status: number; drain(): void; request: ClientRequest }>((resolve, reject) => {
      const request = httpGet({ port, host: '127.0.0.1', path, headers }, (res) => {
        res.pause();
        resolve({ status: res.statusCode ?? 0, drain: () => res.resume(), request });
      });
      request.on('error', reject);
    });

  it("gives its turn back, so the tenant's next heavy read is served at once", async () => {
    await w.t.raw.query(
      `INSERT INTO workflows (tenant_id, instance_id, customer_id, workflow_type, status, workflow_state)
       SELECT $1, $2, $3, 'lead', 'active', jsonb_build_object('s', repeat('a', 250 * 1024))
         FROM generate_series(1, 40)`,
      [w.a.tenantId, w.instance, w.customer],
    );
    const server = w.t.app.getHttpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const path = '/v1/workflows?per_page=40';
    // The first heavy read is answered but not read: its response stays open, holding the turn.
    const first = await unread(port, path, w.a.admin);
    expect(first.status).toBe(200);
    // The second waits for the turn; its client gives up meanwhile.
    const second = httpGet({ port, host: '127.0.0.1', path, headers: w.a.admin });
    second.on('error', () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    second.destroy();
    first.drain();
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Both gone: nothing is held, and a third heavy read is served without waiting its turn out.
    expect(w.t.app.get(TenantDb).admission.responseMemory.inUse).toBe(0);
    const started = Date.now();
    const third = await w.t.http().get(path).set(w.a.admin);
    expect(third.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(3000);
    server.close();
  });
});

describe('caps are measured as PostgreSQL stores and sends the JSON', () => {
  let w: WorkflowWorld;
  const { create } = workflowCalls(() => w);
  beforeAll(async () => {
    w = await workflowWorld();
  });
  afterAll(() => w.t.close());

  it.each([
    ['tiny numbers', [5e-324, -1.5e-10, 1e-7, 0.1, -0, 0, 9007199254740991, 123.456]],
    ['nesting and spacing', { a: [1, [2, { b: [] }], {}], 'c d': { e: null, f: true, g: false } }],
    ['text that escapes', { s: 'quote " backslash \\ tab \t nl \n ctl \u0001 é 東 😀 \u2028' }],
    ['arrays of zeros', Array(500).fill(0)],
  ])('agrees with jsonb on %s', async (_, value) => {
    const { rows } = await w.t.raw.query('SELECT octet_length($1::jsonb::text) AS n', [
      JSON.stringify(value),
    ]);
    expect(jsonBytes(value)).toBe(Number(rows[0].n));
  });

  it('refuses a state of tiny numbers that jsonb would write fifty times larger', async () => {
    const tiny = Array(37_000).fill(5e-324); // 259 KB to JavaScript, 12 MB to jsonb
    const res = await w.t
      .http()
      .post(w.base)
      .set(w.runtime)
      .send({ customer_id: w.customer, workflow_type: 'lead', workflow_state: { tiny } });
    expect(res.status).toBe(422);
    expect(res.body.detail[0].loc).toEqual(['body', 'workflow_state']);
    // Nor can one change's detail fill a history at once, so that not even closing fits.
    const wf = await create();
    const detail = await w.t
      .http()
      .patch(`${w.base}/${wf.id}`)
      .set(w.runtime)
      .send({ action: 'noted', action_detail: { tiny: Array(8_500).fill(5e-324) } });
    expect(detail.status).toBe(422);
    expect(detail.body.detail[0].loc).toEqual(['body', 'action_detail']);
  });

  it('keeps room to close a workflow whatever the entries before it hold', async () => {
    const wf = await create();
    const detail = { zeros: Array(10_000).fill(0), tiny: Array(10).fill(5e-324) }; // ~33 KB stored
    let status = 200;
    for (let i = 0; status === 200 && i < 400; i++) {
      status = (
        await w.t
          .http()
          .patch(`${w.base}/${wf.id}`)
          .set(w.runtime)
          .send({ action: 'noted', action_detail: detail })
      ).status;
    }
    expect(status).toBe(409); // full before 1,000 entries: by bytes
    const { rows } = await w.t.raw.query(
      'SELECT octet_length(history::text) AS n FROM workflows WHERE id = $1',
      [wf.id],
    );
    expect(Number(rows[0].n)).toBeLessThanOrEqual(1024 * 1024);
    const closed = await w.t.http().post(`/v1/workflows/${wf.id}/abort`).set(w.a.admin).send({});
    expect(closed.status).toBe(200);
  });
});
