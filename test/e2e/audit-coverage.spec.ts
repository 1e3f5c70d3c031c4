import { TestApp, startTestApp } from '../helpers/app';
import { WRITE, routeDeclarations } from '../helpers/route-handlers';

/**
 * Every write route of the dashboard and the platform declares itself audited (`@Audited()`,
 * whose interceptor fails a success that recorded nothing) or exempt with its reason
 * (`@AuditExempt('…')`). A route added without either fails here.
 */
describe('audit coverage', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('knows every served write route of /v1 and /platform/v1 as audited or exempt', async () => {
    const doc = (await t.http().get('/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const served = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`))
      .filter((r) => WRITE.test(r))
      .sort();
    const declared = routeDeclarations(t);
    expect(served.length).toBeGreaterThan(30); // the document was read, not nothing
    const undeclared = served.filter((r) => declared.get(r) === undefined);
    expect(undeclared).toEqual([]);
    const exempt = served.filter((r) => declared.get(r) && 'exempt' in declared.get(r)!);
    expect(exempt).toEqual(['POST /v1/rules/{rule_id}/test']);
  });

  it('knows each route it checks: the declarations were read from the handlers', () => {
    const declared = routeDeclarations(t);
    expect(declared.get('PATCH /v1/rules/{rule_id}')).toEqual({ audited: true });
    expect(declared.get('POST /platform/v1/tenants')).toEqual({ audited: true });
    expect(declared.get('GET /v1/rules')).toBeUndefined();
  });

  it('documents the audit log route with its summary, parameters and an example', async () => {
    const doc = (await t.http().get('/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, Operation>>;
    };
    const op = doc.paths['/v1/audit-log'].get;
    expect(op.summary).toBe('List Audit Log');
    expect(op.parameters.map((p) => p.name).sort()).toEqual([
      'action',
      'after',
      'limit',
      'target_id',
    ]);
    const example = op.responses['200'].content['application/json'].example as {
      entries: { actor: object; changes: object }[];
    };
    expect(example.entries[0]).toEqual(
      expect.objectContaining({ actor: expect.any(Object), changes: expect.any(Object) }),
    );
  });
});

interface Operation {
  summary: string;
  parameters: { name: string }[];
  responses: Record<string, { content: Record<string, { example?: unknown }> }>;
}
