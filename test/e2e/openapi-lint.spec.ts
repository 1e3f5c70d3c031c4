import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { routeMetadata } from '../../src/openapi';
import { TestApp, startTestApp } from '../helpers/app';

const ROOT = resolve(__dirname, '../..');
const REDOCLY = join(ROOT, 'node_modules/.bin/redocly');

interface Problem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: { pointer?: string }[];
}

interface Media {
  schema?: { $ref?: string };
  example?: unknown;
}

interface Operation {
  operationId: string;
  security?: object[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
}

/** The main operations, which show a client what to send and what comes back. */
const EXAMPLED = [
  'post /internal/v1/instances/{instance_id}/workflows',
  'get /internal/v1/instances/{instance_id}/workflows',
  'get /v1/workflows',
  'post /v1/rules',
  'get /v1/rules',
  'post /internal/v1/instances/{instance_id}/approvals/request',
  'get /internal/v1/instances/{instance_id}/approvals/pending',
  'get /v1/approvals',
  'post /internal/v1/instances/{instance_id}/worker-bindings',
  'get /internal/v1/instances/{instance_id}/worker-bindings',
  'post /v1/customers/{customer_id}/worker-bindings',
  'get /v1/customers/{customer_id}/worker-bindings',
  'post /internal/v1/instances/{instance_id}/events',
  'get /internal/v1/instances/{instance_id}/events',
  'get /v1/events',
];

/** Runs the installed Redocly CLI on `file` with the repository's redocly.yaml. */
async function lint(file: string): Promise<Problem[]> {
  const args = ['lint', file, '--format=json', `--config=${join(ROOT, 'redocly.yaml')}`];
  // Lint exits 1 when it finds errors; its JSON report on stdout is what we read either way.
  const { stdout } = await promisify(execFile)(REDOCLY, args, {
    cwd: ROOT,
    // No usage report or update check reaching out to the network from a test.
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    maxBuffer: 64 * 1024 * 1024,
  }).catch((err: Error & { stdout?: string; stderr?: string }) => {
    if (!err.stdout) throw new Error(`redocly lint did not run: ${err.stderr ?? err.message}`);
    return { stdout: err.stdout };
  });
  return (JSON.parse(stdout) as { problems: Problem[] }).problems;
}

describe('/openapi.json', () => {
  let t: TestApp;
  let dir: string;
  let doc: {
    paths: Record<string, Record<string, Operation>>;
    components: { securitySchemes: Record<string, object> };
  };
  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ route: `${method} ${path}`, method, op })),
    );
  beforeAll(async () => {
    t = await startTestApp();
    dir = await mkdtemp(join(tmpdir(), 'hydracore-openapi-'));
    doc = (await t.http().get('/openapi.json').expect(200)).body;
  });
  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("passes Redocly's recommended rules with no error and no warning", async () => {
    const file = join(dir, 'openapi.json');
    await writeFile(file, JSON.stringify(doc, null, 2));
    const problems = (await lint(file)).map(
      (p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer ?? '?'}: ${p.message}`,
    );
    expect(problems).toEqual([]);
  }, 60_000);

  it('calls the proxy key an opaque bearer key and the tenant token a JWT', () => {
    const schemes = doc.components.securitySchemes;
    expect(schemes.proxy_key).toEqual({
      type: 'http',
      scheme: 'bearer',
      description: expect.stringContaining('Bearer hc_proxy_'),
    });
    expect(schemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  });

  it('documents the status each handler answers on success, a 204 without a body', () => {
    const routes = routeMetadata(t.app);
    const wrong = operations().flatMap(({ route, method, op }) => {
      const status = routes.get(op.operationId)?.httpCode ?? (method === 'post' ? 201 : 200);
      const answer = op.responses[status];
      if (!answer) return [`${route}: no ${status}`];
      return status === 204 && answer.content ? [`${route}: a 204 with a body`] : [];
    });
    expect(wrong).toEqual([]);
  });

  it('gives every error answer the wire format, and 401 exactly where a credential is asked', () => {
    const wrong = operations().flatMap(({ route, op }) => {
      const problems: string[] = [];
      for (const [status, answer] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        const ref = answer.content?.['application/json']?.schema?.$ref;
        const wanted = status === '422' ? 'ValidationErrorResponse' : 'ErrorResponse';
        if (ref !== `#/components/schemas/${wanted}`) problems.push(`${route} ${status}: ${ref}`);
      }
      const isPublic = (op.security ?? []).length === 0;
      if (isPublic === '401' in op.responses) problems.push(`${route}: 401 and security disagree`);
      return problems;
    });
    expect(wrong).toEqual([]);
  });

  // Redocly's no-invalid-media-type-examples (first test) holds each example to its schema.
  it('shows what to send and what comes back on the main operations', () => {
    const routes = routeMetadata(t.app);
    const byRoute = new Map(operations().map((o) => [o.route, o]));
    const missing = EXAMPLED.flatMap((route) => {
      const { method, op } = byRoute.get(route) ?? { method: '', op: undefined };
      if (!op) return [`${route}: not documented`];
      const success = routes.get(op.operationId)?.httpCode ?? (method === 'post' ? 201 : 200);
      const problems = [];
      if (op.responses[success].content?.['application/json']?.example === undefined)
        problems.push(`${route}: no example of its ${success}`);
      if (method === 'post' && op.requestBody?.content['application/json']?.example === undefined)
        problems.push(`${route}: no example request`);
      return problems;
    });
    expect(missing).toEqual([]);
  });
});
