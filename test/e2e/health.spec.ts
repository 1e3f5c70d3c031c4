import { TestApp, startTestApp } from '../helpers/app';

describe('health and docs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers liveness and readiness', async () => {
    await t.http().get('/healthz').expect(200, { status: 'ok' });
    await t.http().get('/readyz').expect(200, { status: 'ready' });
  });

  it('serves Swagger UI and an OpenAPI document with both security schemes', async () => {
    await t.http().get('/docs').expect(200);
    const doc = (await t.http().get('/openapi.json').expect(200)).body;
    expect(Object.keys(doc.components.securitySchemes)).toEqual(
      expect.arrayContaining(['bearer', 'api_key', 'proxy_key', 'platform_key']),
    );
    expect(doc.components.securitySchemes.api_key).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'X-Api-Key',
    });
    const createCustomer = doc.paths['/v1/customers'].post;
    expect(createCustomer.summary).toBe('Create Customer');
    expect(createCustomer.security).toEqual(
      expect.arrayContaining([{ bearer: [] }, { api_key: [] }]),
    );
    const schema = doc.components.schemas.CreateApiKeyDto;
    expect(schema.properties.customer_id).toMatchObject({ type: 'string', format: 'uuid' });
    expect(schema.properties.name).toMatchObject({ minLength: 1, maxLength: 200 });
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'role']));
    const param = doc.paths['/v1/customers/{customer_id}'].get.parameters[0];
    expect(param).toMatchObject({ in: 'path', name: 'customer_id', schema: { format: 'uuid' } });
  });
});
