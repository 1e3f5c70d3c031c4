import { DirectoryService } from '../../src/directory/directory.service';
import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

describe('wire format', () => {
  let t: TestApp;
  let a: TenantSession;
  beforeAll(async () => {
    t = await startTestApp();
    a = await TenantSession.create(t);
  });
  afterAll(() => t.close());

  const post = (body: string | object, type = 'application/json') =>
    t
      .http()
      .post('/v1/customers')
      .set(a.admin)
      .set('Content-Type', type)
      .send(typeof body === 'string' ? body : JSON.stringify(body));

  it('answers body errors with one 422 entry per failing field', async () => {
    const res = await t
      .http()
      .post('/v1/api-keys')
      .set(a.admin)
      .send({ role: 'owner', customer_id: 'x', name: 7 });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      detail: [
        { loc: ['body', 'name'], msg: expect.any(String), type: 'string_type' },
        { loc: ['body', 'role'], msg: expect.stringContaining('role'), type: 'enum' },
        {
          loc: ['body', 'customer_id'],
          msg: expect.stringContaining('customer_id'),
          type: 'uuid_parsing',
        },
      ],
    });
  });

  it('reports missing fields and length limits', async () => {
    expect((await post({})).body).toEqual({
      detail: [{ loc: ['body', 'name'], msg: 'Field required', type: 'missing' }],
    });
    expect((await post({ name: '' })).body.detail).toEqual([
      { loc: ['body', 'name'], msg: expect.any(String), type: 'string_too_short' },
    ]);
    expect((await post({ name: 'x'.repeat(201) })).body.detail[0].type).toBe('string_too_long');
  });

  it('answers malformed JSON, empty and non-object bodies with 422', async () => {
    const broken = await post('{"name": ');
    expect(broken.status).toBe(422);
    expect(broken.body.detail).toEqual([
      { loc: ['body', expect.any(Number)], msg: 'JSON decode error', type: 'json_invalid' },
    ]);
    expect((await post('')).body.detail[0]).toMatchObject({
      loc: ['body', 'name'],
      type: 'missing',
    });
    expect((await post('[1,2]')).body.detail).toEqual([
      {
        loc: ['body'],
        msg: 'Input should be a valid dictionary or object',
        type: 'model_attributes_type',
      },
    ]);
    expect((await post('"text"')).status).toBe(422);
  });

  it('refuses a body that is not UTF-8, sized or chunked, and writes nothing', async () => {
    const count = async () =>
      Number(
        (await t.raw.query('SELECT count(*) FROM customers WHERE tenant_id = $1', [a.tenantId]))
          .rows[0].count,
      );
    const before = await count();
    const bytes = Buffer.concat([
      Buffer.from('{"name":"bad'),
      Buffer.from([0xff]),
      Buffer.from('"}'),
    ]);
    const refusal = {
      detail: [{ loc: ['body'], msg: 'The body is not valid UTF-8', type: 'json_invalid' }],
    };
    // Written by hand: given a Buffer, the client would send it as JSON of its own.
    const sent = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const req = t.http().post('/v1/customers').set(a.admin).set(headers);
        req.write(bytes);
        req.end((error: Error | null, res) => (error ? reject(error) : resolve(res)));
      });
    const json = { 'Content-Type': 'application/json' };
    const sized = await sent({ ...json, 'Content-Length': String(bytes.length) });
    expect([sized.status, sized.body]).toEqual([422, refusal]);
    const chunked = await sent(json); // without a length, the body travels chunked
    expect([chunked.status, chunked.body]).toEqual([422, refusal]);
    expect(await count()).toBe(before);
  });

  it('answers path and query errors with their loc', async () => {
    const path = await t.http().get('/v1/customers/not-a-uuid').set(a.admin).expect(422);
    expect(path.body.detail).toEqual([
      { loc: ['path', 'customer_id'], msg: expect.any(String), type: 'uuid_parsing' },
    ]);
    const query = await t.http().get('/v1/api-keys?include_revoked=maybe').set(a.admin).expect(422);
    expect(query.body.detail).toEqual([
      { loc: ['query', 'include_revoked'], msg: expect.any(String), type: 'bool_type' },
    ]);
  });

  it('validates before it authorises nothing: a refused body writes nothing', async () => {
    const before = await t.raw.query('SELECT count(*) FROM customers');
    await post({ name: '' }).expect(422);
    await post('{').expect(422);
    expect((await t.raw.query('SELECT count(*) FROM customers')).rows).toEqual(before.rows);
  });

  it('ignores unknown fields and answers snake_case with ISO timestamps', async () => {
    const res = await post({
      name: 'Acme',
      unknown_field: 'x',
      tenant_id: '00000000-0000-4000-8000-000000000000',
    }).expect(201);
    expect(Object.keys(res.body).sort()).toEqual(['created_at', 'id', 'name', 'tenant_id']);
    expect(res.body.tenant_id).toBe(a.tenantId);
    expect(res.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('refuses NUL characters (PostgreSQL cannot store them) with 422 at their place', async () => {
    const body = await post({ name: 'a\u0000b' });
    expect(body.status).toBe(422);
    expect(body.body.detail).toEqual([
      { loc: ['body', 'name'], msg: expect.any(String), type: 'string_nul' },
    ]);
    const query = await t.http().get('/v1/api-keys?include_revoked=%00').set(a.admin);
    expect(query.status).toBe(422);
  });

  it('refuses unpaired surrogates (not Unicode; validators throw on them) with 422', async () => {
    const customers = async () =>
      Number((await t.raw.query('SELECT count(*) FROM customers')).rows[0].count);
    const before = await customers();
    const email = await t
      .http()
      .post(`/v1/customers/${await a.customer()}/persons`)
      .set(a.admin)
      .set('Content-Type', 'application/json')
      .send('{"name":"a","email":"x\\ud800@example.com"}');
    expect(email.status).toBe(422);
    expect(email.body.detail).toEqual([
      { loc: ['body', 'email'], msg: expect.any(String), type: 'string_unicode' },
    ]);
    // Inside free-form JSON, where PostgreSQL's jsonb would be the one to refuse it.
    const nested = await post('{"name":"a","extra":{"k":["\\udc00"]}}');
    expect(nested.body.detail).toEqual([
      { loc: ['body', 'extra', 'k', 0], msg: expect.any(String), type: 'string_unicode' },
    ]);
    // A pair is a character like any other.
    expect((await post({ name: 'Harbour 🏠' })).status).toBe(201);
    expect(await customers()).toBe(before + 2); // a.customer() and the pair
  });

  it('refuses JSON nested deeper than 64 levels with 422, and takes 64', async () => {
    const nest = (n: number) => `{"name":"a","extra":${'['.repeat(n - 1)}${']'.repeat(n - 1)}}`;
    const deep = await post(nest(10_000));
    expect(deep.status).toBe(422);
    expect(deep.body.detail).toEqual([
      { loc: ['body'], msg: 'JSON nested deeper than 64 levels', type: 'json_invalid' },
    ]);
    expect((await post(nest(65))).status).toBe(422);
    expect((await post(nest(64))).status).toBe(201);
  });

  it('answers URLs Fastify refuses before routing in the wire format', async () => {
    const bad = await t.http().get('/v1/customers/%zz').set(a.admin);
    expect([bad.status, bad.body]).toEqual([
      422,
      { detail: [{ loc: ['path'], msg: 'Malformed URL encoding', type: 'url_invalid' }] },
    ]);
    const long = await t
      .http()
      .get(`/v1/customers/${'x'.repeat(101)}`)
      .set(a.admin);
    expect(long.status).toBe(422); // reaches the UUID check
    const huge = await t
      .http()
      .get(`/v1/customers/${'x'.repeat(1001)}`)
      .set(a.admin);
    expect([huge.status, huge.body.detail[0].type]).toEqual([422, 'string_too_long']);
  });

  it('refuses null for a required field', async () => {
    expect((await post({ name: null })).body.detail[0]).toMatchObject({
      loc: ['body', 'name'],
      type: 'string_type',
    });
  });

  it('refuses bodies over 1 MiB with 413', async () => {
    const res = await post({ name: 'x'.repeat(1024 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ detail: expect.stringContaining('1 MiB') });
  });

  it('refuses other media types with 415', async () => {
    const res = await t
      .http()
      .post('/v1/customers')
      .set(a.admin)
      .set('Content-Type', 'application/xml')
      .send('<a/>');
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ detail: expect.any(String) });
  });

  it('refuses JSON it could only misread, compressed or not in UTF-8, with 415; and a null body', async () => {
    const before = (await t.raw.query('SELECT count(*)::int AS n FROM customers')).rows[0].n;
    const body = JSON.stringify({ name: 'Unreadable' });
    for (const headers of [
      { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      { 'Content-Type': 'application/json; charset=utf-16' },
      { 'Content-Type': 'application/json; charset="latin1"' },
    ]) {
      const res = await t.http().post('/v1/customers').set(a.admin).set(headers).send(body);
      expect({ headers, status: res.status }).toEqual({ headers, status: 415 });
      expect(res.body).toEqual({ detail: expect.any(String) });
    }
    for (const charset of ['utf-8', 'UTF8']) {
      await t
        .http()
        .post('/v1/customers')
        .set(a.admin)
        .set('Content-Type', `application/json; charset=${charset}`)
        .send(body)
        .expect(201);
    }
    const nothing = await t
      .http()
      .post('/v1/customers')
      .set(a.admin)
      .set('Content-Type', 'application/json')
      .send('null');
    expect(nothing.status).toBe(422);
    expect(nothing.body.detail[0].loc).toEqual(['body']);
    const after = (await t.raw.query('SELECT count(*)::int AS n FROM customers')).rows[0].n;
    expect(after).toBe(before + 2);
  });

  it('answers unknown routes with 404 in the wire format', async () => {
    const res = await t.http().get('/v1/nothing-here').set(a.admin).expect(404);
    expect(res.body).toEqual({ detail: expect.any(String) });
  });

  it('echoes a request id, minting one when none is given', async () => {
    const given = await t.http().get('/healthz').set('X-Request-Id', 'abc-123').expect(200);
    expect(given.headers['x-request-id']).toBe('abc-123');
    const minted = await t
      .http()
      .get('/healthz')
      .set('X-Request-Id', 'bad id with spaces')
      .expect(200);
    expect(minted.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('turns an unexpected error into a bare 500 and rolls back', async () => {
    const spy = jest
      .spyOn(DirectoryService.prototype, 'listCustomers')
      .mockRejectedValueOnce(new Error('SELECT secret FROM internals at /srv/app.ts:12'));
    const res = await t.http().get('/v1/customers').set(a.admin);
    spy.mockRestore();
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ detail: 'Internal server error' });
    expect(res.text).not.toMatch(/SELECT|internals|app\.ts/);
  });
});
