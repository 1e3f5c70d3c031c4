/**
 * The routes the fuzz suite covers, and how to read them out of the app's /openapi.json.
 *
 * FUZZED_ROUTES is a static list on purpose: the route-inventory test imports it, and the fuzz
 * suite checks it against /openapi.json at run time in both directions, so a route added to the
 * app without fuzz coverage (or removed while still listed) fails the suite.
 */

export const FUZZED_ROUTES: string[] = [
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  'POST /platform/v1/tenants',
  'GET /platform/v1/tenants',
  'PATCH /platform/v1/tenants/{tenant_id}',
  'PATCH /v1/customers/{customer_id}',
  'GET /v1/customers/{customer_id}/persons/{person_id}',
  'PATCH /v1/customers/{customer_id}/persons/{person_id}',
  'DELETE /v1/customers/{customer_id}/persons/{person_id}',
  'PATCH /v1/instances/{instance_id}',
  'DELETE /v1/instances/{instance_id}',
  'POST /v1/instances/{instance_id}/proxy-keys/{key_id}/rotate',
  'GET /v1/customers',
  'POST /v1/customers',
  'GET /v1/customers/{customer_id}',
  'GET /v1/customers/{customer_id}/persons',
  'POST /v1/customers/{customer_id}/persons',
  'GET /v1/instances',
  'POST /v1/instances',
  'GET /v1/instances/{instance_id}/proxy-keys',
  'POST /v1/instances/{instance_id}/proxy-keys',
  'DELETE /v1/instances/{instance_id}/proxy-keys/{key_id}',
  'GET /v1/api-keys',
  'POST /v1/api-keys',
  'DELETE /v1/api-keys/{key_id}',
  'GET /internal/v1/instances/{instance_id}',
  'GET /internal/v1/instances/{instance_id}/worker-bindings',
  'POST /internal/v1/instances/{instance_id}/worker-bindings',
  'POST /internal/v1/instances/{instance_id}/worker-bindings/{binding_id}/rebind',
  'POST /internal/v1/instances/{instance_id}/worker-bindings/{binding_id}/revoke',
  'POST /internal/v1/instances/{instance_id}/worker-bindings/{binding_id}/verify',
  'GET /internal/v1/instances/{instance_id}/worker-bindings/lookup',
  'GET /v1/customers/{customer_id}/worker-bindings',
  'POST /v1/customers/{customer_id}/worker-bindings',
  'POST /v1/customers/{customer_id}/worker-bindings/{binding_id}/rebind',
  'POST /v1/customers/{customer_id}/worker-bindings/{binding_id}/revoke',
  'GET /v1/instances/{instance_id}/channels',
  'POST /v1/instances/{instance_id}/channels',
  'PATCH /v1/instances/{instance_id}/channels/{endpoint_id}',
  'DELETE /v1/instances/{instance_id}/channels/{endpoint_id}',
  'GET /internal/v1/instances/{instance_id}/channels',
  'GET /internal/v1/instances/{instance_id}/workflows',
  'POST /internal/v1/instances/{instance_id}/workflows',
  'GET /internal/v1/instances/{instance_id}/workflows/{workflow_id}',
  'PATCH /internal/v1/instances/{instance_id}/workflows/{workflow_id}',
  'POST /internal/v1/instances/{instance_id}/workflows/{workflow_id}/resume',
  'POST /internal/v1/instances/{instance_id}/workflows/{workflow_id}/suspend',
  'GET /v1/workflows',
  'GET /v1/workflows/suspended',
  'GET /v1/workflows/{workflow_id}',
  'POST /v1/workflows/{workflow_id}/abort',
  'POST /v1/workflows/{workflow_id}/resume',
  'POST /v1/workflows/{workflow_id}/suspend',
  'GET /v1/rules',
  'POST /v1/rules',
  'GET /v1/rules/replayable-services',
  'GET /v1/rules/trigger-types',
  'GET /v1/rules/{rule_id}',
  'PATCH /v1/rules/{rule_id}',
  'DELETE /v1/rules/{rule_id}',
  'POST /v1/rules/{rule_id}/test',
  'GET /v1/rules/{rule_id}/firings',
  'GET /internal/v1/instances/{instance_id}/approvals/pending',
  'POST /internal/v1/instances/{instance_id}/approvals/request',
  'POST /internal/v1/instances/{instance_id}/approvals/resolve',
  'GET /v1/approvals',
  'POST /internal/v1/instances/{instance_id}/events',
  'GET /internal/v1/instances/{instance_id}/events',
  'GET /v1/events',
  'GET /v1/events/{event_id}',
  'POST /v1/webhook-endpoints',
  'GET /v1/webhook-endpoints',
  'GET /v1/webhook-endpoints/{endpoint_id}',
  'PATCH /v1/webhook-endpoints/{endpoint_id}',
  'DELETE /v1/webhook-endpoints/{endpoint_id}',
  'POST /v1/webhook-endpoints/{endpoint_id}/rotate-secret',
  'GET /v1/webhook-endpoints/{endpoint_id}/deliveries',
  'POST /v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/retry',
  'POST /v1/webhook-endpoints/{endpoint_id}/replay',
  'GET /v1/audit-log',
];

/** The part of OpenAPI 3 the fuzzer reads. */
export interface Schema {
  type?: string;
  format?: string;
  enum?: unknown[];
  nullable?: boolean;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  $ref?: string;
  allOf?: Schema[];
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  security?: Record<string, string[]>[];
}

export interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

/** Which credential the fuzzer presents: the valid one the route accepts, so refusals are not all 401s. */
export type Credential = 'none' | 'dashboard' | 'proxy' | 'platform';

export interface Route {
  key: string;
  method: string;
  path: string;
  pathParams: Parameter[];
  queryParams: Parameter[];
  /** The resolved JSON body schema, or null when the route declares no body. */
  body: Schema | null;
  credential: Credential;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Follows `$ref` (and single-member `allOf`, which @nestjs/swagger emits for nested classes). */
export function resolve(doc: OpenApiDoc, schema: Schema | undefined): Schema | undefined {
  if (!schema) return undefined;
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    return resolve(doc, doc.components?.schemas?.[name]);
  }
  if (schema.allOf?.length === 1) return { ...resolve(doc, schema.allOf[0]), ...schema };
  return schema;
}

function credentialOf(op: Operation): Credential {
  const schemes = (op.security ?? []).flatMap((s) => Object.keys(s));
  if (schemes.includes('proxy_key')) return 'proxy';
  if (schemes.includes('platform_key')) return 'platform';
  if (schemes.includes('bearer') || schemes.includes('api_key')) return 'dashboard';
  return 'none';
}

/** Every operation in the document, as the fuzzer needs it. */
export function openApiRoutes(doc: OpenApiDoc): Route[] {
  const routes: Route[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const params = op.parameters ?? [];
      routes.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path'),
        queryParams: params
          .filter((p) => p.in === 'query')
          .map((p) => ({ ...p, schema: shortWaits(p.name, resolve(doc, p.schema)) })),
        body: resolveBody(doc, op),
        credential: credentialOf(op),
      });
    }
  }
  return routes;
}

/**
 * A long poll's `wait` is real time: the fuzzer asks for at most a second of it, so a run of
 * hundreds of requests stays quick. Values past the real maximum are still sent as bad input.
 */
function shortWaits(name: string, schema: Schema | undefined): Schema | undefined {
  return name === 'wait' && schema ? { ...schema, maximum: 1 } : schema;
}

function resolveBody(doc: OpenApiDoc, op: Operation): Schema | null {
  const schema = resolve(doc, op.requestBody?.content?.['application/json']?.schema);
  if (!schema) return null;
  const properties: Record<string, Schema> = {};
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    properties[name] = resolve(doc, prop) ?? {};
  }
  return { ...schema, properties };
}
