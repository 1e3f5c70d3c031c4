import { TestApp, startTestApp } from '../helpers/app';
import { FUZZED_ROUTES } from '../fuzz/routes';
import { MATRIX } from '../matrix/routes';

/** Swagger UI's own files: served, but not API routes. */
const DOCS = /^(GET|HEAD) \/(docs|openapi\.json)/;

/**
 * Every route Fastify serves, as 'METHOD /path/{param}', read from its router's printout
 * (one segment per line, nested by indentation) so a route left out of the docs still counts.
 */
function servedRoutes(tree: string): string[] {
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]+)\))?/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    stack.length = depth;
    stack.push(m[2]);
    const path = stack.join('').replace(/:(\w+)/g, '{$1}');
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD')) {
      routes.push(`${method} ${path}`);
    }
  }
  return routes.filter((r) => !DOCS.test(r)).sort();
}

describe('route inventory', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('covers every served route in the docs, the isolation matrix and the fuzz set', async () => {
    const served = servedRoutes(
      t.app.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false }),
    );
    const doc = (await t.http().get('/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(served.length).toBeGreaterThan(50); // the parser read the router, not nothing
    expect(documented).toEqual(served);
    expect(MATRIX.map((r) => r.route).sort()).toEqual(served);
    expect([...FUZZED_ROUTES].sort()).toEqual(served);
  });
});
