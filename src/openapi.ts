import { INestApplication, Type } from '@nestjs/common';
import { GUARDS_METADATA, HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import {
  DocumentBuilder,
  OpenAPIObject,
  OperationObject,
  ParameterObject,
  ReferenceObject,
  RequestBodyObject,
  ResponseObject,
  SchemaObject,
  SwaggerModule,
} from '@nestjs/swagger';
import { THROTTLER_SKIP } from '@nestjs/throttler/dist/throttler.constants';
import { SECURITY } from './auth/auth.decorators';
import {
  DashboardAuthGuard,
  InternalProxyKeyGuard,
  PlatformKeyGuard,
  TenantAdminGuard,
} from './auth/guards';
import { Credential, ERROR_SCHEMAS, RouteMeta, errorResponses } from './openapi-errors';
import EXAMPLES from './openapi-examples.json';

/** Tag order follows the published reference's routers, then our additions. */
const TAGS: [string, string][] = [
  [
    'Worker bindings',
    'Which person answers on which channel address: bindings made by the runtime or on the ' +
      'dashboard, verified, rebound and revoked.',
  ],
  ['Channels', 'The provider endpoints (numbers, inboxes) each instance answers on.'],
  [
    'Workflows',
    'Long-running work of the runtime: stages, state, timers (next_action_at, expires_at), ' +
      'suspension and history.',
  ],
  [
    'Rules',
    'Business rules evaluated on every event: conditions, actions (approval, block, notify), ' +
      'tenant defaults and guards; and the public catalogs of triggers and replayable services.',
  ],
  ['Approvals', 'Human approvals the rules require: requested by the runtime, resolved by people.'],
  [
    'Directory',
    'The tenant itself: customers, persons, instances, their proxy keys and tenant API keys.',
  ],
  ['Platform', 'Tenants, for the platform operator (X-Platform-Key).'],
  ['Health', 'For the operator and its load balancers: liveness and readiness.'],
  ['Rule firings', "Each rule's firing log: what fired it, what it decided and created."],
  [
    'Events',
    'The event log: events the runtime reports (evaluated against the rules) and the ordered ' +
      'feed of everything that happened, for the runtime and the dashboard.',
  ],
  [
    'Webhook endpoints',
    'URLs the events are POSTed to, signed (Standard Webhooks), with their deliveries.',
  ],
  ['Audit', 'Who changed what, through the dashboard and platform routes, and every key issued.'],
];

export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('HydraCore API')
    .setDescription(
      'Control plane of the HydraCore agent platform. Dashboard routes take a JWT (Bearer) or a ' +
        'tenant API key (X-Api-Key); /internal routes take the proxy key of the instance in the ' +
        'path. Errors are `{"detail": "…"}`; validation errors are 422 with `{"detail": [{"loc", ' +
        '"msg", "type"}]}`.',
    )
    .setVersion('1')
    // The package is UNLICENSED: no rights are granted; the link says what that value means.
    .setLicense(
      'Proprietary (UNLICENSED)',
      'https://docs.npmjs.com/cli/v10/configuring-npm/package-json#license',
    )
    // Relative: the document describes whichever host serves it.
    .addServer('/', 'This server')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, SECURITY.bearer)
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Api-Key' }, SECURITY.apiKey)
    // Not addBearerAuth: it would call the key a JWT. It is an opaque key.
    .addSecurity(SECURITY.proxyKey, {
      type: 'http',
      scheme: 'bearer',
      description:
        'The proxy key of the instance in the path, an opaque key (not a JWT): ' +
        '`Authorization: Bearer hc_proxy_…`',
    })
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Platform-Key' }, SECURITY.platform)
    .build();
  config.tags = TAGS.map(([name, description]) => ({ name, description }));
  const document = SwaggerModule.createDocument(app, config);
  completeOperations(routeMetadata(app), document);
  return document;
}

/**
 * What the handlers' decorators say and the generated document leaves out, in one place:
 * `security: []` on public routes, a 204 as a 204 without a body, every error answer
 * (openapi-errors.ts), that every `*_id` path parameter is a UUID (UuidParam enforces it), and
 * the examples of the main operations (openapi-examples.json: real answers, trimmed).
 */
function completeOperations(routes: Map<string, RouteMeta>, document: OpenAPIObject): void {
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, ...ERROR_SCHEMAS },
  };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(item) as [string, OperationObject][]) {
      const meta = routes.get(op.operationId ?? '');
      if (!meta) throw new Error(`no handler found for ${method.toUpperCase()} ${path}`);
      // Explicit: Redocly reads a missing `security` as forgotten, not as public.
      if (meta.credential === 'public' && !op.security) op.security = [];
      if (meta.httpCode === 204) op.responses[204] = { description: 'Done; no body' };
      for (const param of (op.parameters ?? []) as ParameterObject[]) {
        if (param.in === 'path' && param.name.endsWith('_id'))
          param.schema = { type: 'string', format: 'uuid' };
      }
      Object.assign(op.responses, errorResponses(path, method, op, meta));
      addExamples(op, method, meta);
    }
  }
  for (const schema of Object.values(document.components.schemas ?? {})) nullableEnums(schema);
}

type Examples = Record<string, { request?: unknown; response: unknown }>;

function addExamples(op: OperationObject, method: string, meta: RouteMeta): void {
  const example = (EXAMPLES as Examples)[op.operationId ?? ''];
  if (!example) return;
  const body = op.requestBody as RequestBodyObject | undefined;
  const request = body?.content['application/json'];
  if (example.request !== undefined && request) request.example = example.request;
  const success = meta.httpCode ?? (method === 'post' ? 201 : 200);
  const response = (op.responses[success] as ResponseObject | undefined)?.content?.[
    'application/json'
  ];
  if (!response) throw new Error(`${op.operationId} has no ${success} to show an example of`);
  response.example = example.response;
}

/** In OpenAPI 3.0 a nullable enum admits null only when null is one of its values. */
function nullableEnums(schema: SchemaObject | ReferenceObject): void {
  if ('$ref' in schema) return;
  // A copy: the enum may be the very array the validation reads.
  if (schema.nullable && schema.enum && !schema.enum.includes(null))
    schema.enum = [...schema.enum, null];
  for (const child of [
    ...Object.values(schema.properties ?? {}),
    ...(schema.items ? [schema.items] : []),
    ...(schema.allOf ?? []),
    ...(schema.oneOf ?? []),
    ...(schema.anyOf ?? []),
  ]) {
    nullableEnums(child);
  }
}

/** Each handler's metadata, by the operation id @nestjs/swagger gives it (Controller_method). */
export function routeMetadata(app: INestApplication): Map<string, RouteMeta> {
  const routes = new Map<string, RouteMeta>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type | null;
      if (!controller) continue;
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const read = (key: string): unknown =>
          Reflect.getMetadata(key, handler) ?? Reflect.getMetadata(key, controller);
        const guards = [
          ...((Reflect.getMetadata(GUARDS_METADATA, controller) as unknown[]) ?? []),
          ...((Reflect.getMetadata(GUARDS_METADATA, handler) as unknown[]) ?? []),
        ];
        routes.set(`${controller.name}_${name}`, {
          credential: credentialOf(guards),
          roleChecked: guards.includes(TenantAdminGuard),
          httpCode: Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined,
          // The throttler's one throttle is named `default` (rate-limit.guard.ts).
          rateLimited: read(`${THROTTLER_SKIP}default`) !== true,
        });
      }
    }
  }
  return routes;
}

function credentialOf(guards: unknown[]): Credential {
  if (guards.includes(PlatformKeyGuard)) return 'platform';
  if (guards.includes(InternalProxyKeyGuard)) return 'internal';
  if (guards.includes(DashboardAuthGuard)) return 'dashboard';
  return 'public';
}

export function mountDocs(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApi(app), {
    jsonDocumentUrl: 'openapi.json',
    swaggerOptions: { persistAuthorization: true },
  });
}
