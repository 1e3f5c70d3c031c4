import type {
  OperationObject,
  ParameterObject,
  ResponseObject,
  SchemaObject,
} from '@nestjs/swagger';
import { MISSING_HOST } from './common/raw-refusals';
import { ROUTE_ERRORS } from './openapi-route-errors';

/**
 * The error answers of every operation, derived in one place from what decides them: the
 * credential class (401, 403, the rate limits' 429), the parameters and body (422, 404 for a
 * resource named in the path), the method (409 when a row lock is not granted in time), and
 * what every route shares (400, 503). What only some routes answer (a state conflict, an
 * expired approval) is listed per operation in ROUTE_ERRORS, as the services throw it.
 */

export type Credential = 'public' | 'dashboard' | 'internal' | 'platform';

/** What the handler's decorators say about one operation (read in openapi.ts). */
export interface RouteMeta {
  credential: Credential;
  /** TenantAdminGuard checks the role. */
  roleChecked: boolean;
  /** `@HttpCode`, when the handler sets one. */
  httpCode?: number;
  /** Not `@SkipThrottle()`. */
  rateLimited: boolean;
}

type Responses = Record<string, ResponseObject>;

const ERROR = '#/components/schemas/ErrorResponse';
const VALIDATION = '#/components/schemas/ValidationErrorResponse';

export const ERROR_SCHEMAS = {
  ErrorResponse: {
    type: 'object',
    description: 'Every refusal except validation: one sentence for people, not for parsing.',
    required: ['detail'],
    properties: { detail: { type: 'string' } },
  },
  FieldError: {
    type: 'object',
    required: ['loc', 'msg', 'type'],
    properties: {
      loc: {
        type: 'array',
        description:
          'Where the problem is: `body`, `query`, `path` or `header`, then the field, then ' +
          'indexes or keys within its value.',
        items: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
      },
      msg: { type: 'string' },
      type: { type: 'string', description: 'A stable code, e.g. `missing`, `uuid_parsing`.' },
    },
  },
  ValidationErrorResponse: {
    type: 'object',
    required: ['detail'],
    properties: {
      detail: { type: 'array', items: { $ref: '#/components/schemas/FieldError' } },
    },
  },
};

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
};

function error(description: string, example: string, retryAfter = false): ResponseObject {
  return {
    description,
    ...(retryAfter ? { headers: RETRY_AFTER } : {}),
    content: { 'application/json': { schema: { $ref: ERROR }, example: { detail: example } } },
  };
}

/** What the validation says of a query value of the wrong type, by the type wanted. */
const QUERY_PROBLEMS: Record<string, [string, string]> = {
  uuid: ['must be a UUID', 'uuid_parsing'],
  integer: ['must be an integer number', 'int_type'],
  boolean: ['must be a boolean value', 'bool_type'],
};

/** A 422, shown with a problem this operation can meet (a wrong id, query value or JSON). */
function validationFailed(op: OperationObject, params: ParameterObject[]): ResponseObject {
  const path = params.find((p) => p.in === 'path');
  const typed = params
    .filter((p) => p.in === 'query')
    .map((p) => {
      const schema = (p.schema ?? {}) as SchemaObject;
      return { p, problem: QUERY_PROBLEMS[schema.format === 'uuid' ? 'uuid' : `${schema.type}`] };
    })
    .find((q) => q.problem);
  const first = path
    ? { loc: ['path', path.name], msg: 'Input should be a valid UUID', type: 'uuid_parsing' }
    : typed && !op.requestBody
      ? {
          loc: ['query', typed.p.name],
          msg: `${typed.p.name} ${typed.problem[0]}`,
          type: typed.problem[1],
        }
      : { loc: ['body', 0], msg: 'JSON decode error', type: 'json_invalid' };
  return {
    description: 'A parameter or the body (or its JSON) is invalid; every problem found is listed',
    content: {
      'application/json': { schema: { $ref: VALIDATION }, example: { detail: [first] } },
    },
  };
}

const UNAUTHORIZED: Record<Exclude<Credential, 'public'>, ResponseObject> = {
  dashboard: {
    ...error(
      'No credential, or a JWT or API key that is invalid, expired, revoked or of an unknown tenant',
      'Invalid or expired token',
    ),
    headers: { 'WWW-Authenticate': { schema: { type: 'string', example: 'Bearer' } } },
  },
  internal: {
    ...error(
      'No proxy key, or one that is invalid, revoked or past its rotation grace',
      'Not authenticated',
    ),
    headers: { 'WWW-Authenticate': { schema: { type: 'string', example: 'Bearer' } } },
  },
  platform: {
    ...error('No X-Platform-Key, or the wrong one', 'Invalid platform key'),
    headers: { 'WWW-Authenticate': { schema: { type: 'string', example: 'Bearer' } } },
  },
};

/** What every credential class is refused with 403 for; the guard adds the role check. */
function forbidden(credential: Credential, roleChecked: boolean): ResponseObject | undefined {
  if (credential === 'dashboard') {
    return error(
      'The tenant is suspended, ' +
        (roleChecked ? 'the role may not call this route, ' : '') +
        'or the row belongs to a customer this principal may not reach',
      'Tenant suspended',
    );
  }
  if (credential === 'internal') {
    return error(
      'The proxy key belongs to another instance, or the tenant is suspended',
      'This proxy key belongs to another instance',
    );
  }
  return undefined;
}

const RATE_LIMITED: Record<Credential, string> = {
  public: 'Past the per-minute request budget of this client address (RATE_LIMIT_PER_MINUTE)',
  platform: 'Past the per-minute request budget of this client address (RATE_LIMIT_PER_MINUTE)',
  dashboard:
    'Past the per-minute budget of this principal (RATE_LIMIT_PER_MINUTE) or of wrong keys from ' +
    "this network (AUTH_FAILURES_PER_MINUTE), or the tenant's requests in flight are at their limit",
  internal:
    'Past the per-minute budget of this instance (RATE_LIMIT_PER_MINUTE) or of wrong keys from ' +
    "this network (AUTH_FAILURES_PER_MINUTE), or the tenant's requests in flight are at their limit",
};

const MALFORMED = error('Not a well-formed HTTP/1.1 request, e.g. without Host', MISSING_HOST);
const BODY_TOO_LARGE = error('The body is over 1 MiB', 'Request body too large (limit 1 MiB)');
const NOT_JSON = error(
  'The body is not application/json',
  'Unsupported media type: send application/json',
);
const BUSY = 'Busy: another request holds a row this one must change (retry after Retry-After)';
const BUSY_EXAMPLE = 'Busy: another request is changing this resource; retry';
const RATE_EXAMPLE = 'Rate limit exceeded: 600 requests per minute; retry in 12 s';
const DRAINING: [string, string] = [
  'This replica is shutting down; another will answer',
  'This server is shutting down; retry',
];
const UNAVAILABLE: [string, string] = [
  'This replica is shutting down, or the database is unreachable or too slow; retry',
  'Database unavailable',
];
const IDEMPOTENCY_REUSED = 'the Idempotency-Key was used for a different request';

/** The noun a service names in its 404, by the path segment before the id. */
const NOT_FOUND_NOUNS: Record<string, string> = {
  tenants: 'Tenant',
  customers: 'Customer',
  persons: 'Person',
  instances: 'Instance',
  'proxy-keys': 'Proxy key',
  'api-keys': 'API key',
  'worker-bindings': 'Binding',
  channels: 'Channel endpoint',
  workflows: 'Workflow',
  rules: 'Rule',
  events: 'Event',
  'webhook-endpoints': 'Webhook endpoint',
  deliveries: 'Webhook delivery',
};

/**
 * Path ids the service looks up: all of them, but the `instance_id` of /internal routes, which
 * the proxy-key guard checks (another instance's key is a 403, a deleted instance's keys 401).
 */
function lookedUp(path: string, credential: Credential): string[] {
  const nouns: string[] = [];
  const segments = path.split('/');
  segments.forEach((segment, i) => {
    if (!/^\{.+\}$/.test(segment)) return;
    if (credential === 'internal' && segment === '{instance_id}' && i === 4) return;
    nouns.push(NOT_FOUND_NOUNS[segments[i - 1]] ?? 'Resource');
  });
  return nouns;
}

/**
 * The operation's error answers: the derived ones, and any other a decorator declares (given
 * the error schema if it has none).
 */
export function errorResponses(
  path: string,
  method: string,
  op: OperationObject,
  meta: RouteMeta,
): Responses {
  const errors = derivedErrors(path, method, op, meta);
  for (const [status, answer] of Object.entries(op.responses) as [string, ResponseObject][]) {
    if (Number(status) < 400 || status in errors) continue;
    errors[status] = answer.content
      ? answer
      : { ...answer, content: { 'application/json': { schema: { $ref: ERROR } } } };
  }
  return errors;
}

function derivedErrors(
  path: string,
  method: string,
  op: OperationObject,
  meta: RouteMeta,
): Responses {
  const { credential } = meta;
  const params = (op.parameters ?? []) as ParameterObject[];
  const own = ROUTE_ERRORS[op.operationId ?? ''] ?? {};
  const errors: Responses = { 400: MALFORMED };
  if (credential !== 'public') errors[401] = UNAUTHORIZED[credential];
  const denied = forbidden(credential, meta.roleChecked);
  if (denied) errors[403] = denied;
  const nouns = lookedUp(path, credential);
  if (own[404]) errors[404] = error(...own[404]);
  else if (credential === 'platform') {
    // PlatformKeyGuard: without PLATFORM_API_KEY the routes answer as if they did not exist.
    const tenant = nouns.length > 0;
    errors[404] = error(
      `The platform routes are off (no PLATFORM_API_KEY)${tenant ? ', or no tenant has this id' : ''}`,
      tenant ? 'Tenant not found' : 'Not Found',
    );
  } else if (nouns.length > 0) {
    errors[404] = error(
      `No ${[...new Set(nouns)].join(' or ').toLowerCase()} with this id in the tenant`,
      `${nouns[nouns.length - 1]} not found`,
    );
  }
  // A change waits for the row locks it needs for at most DB_LOCK_TIMEOUT_MS (tenant-sql.ts).
  if (method !== 'get' && (credential === 'dashboard' || credential === 'internal')) {
    const idempotent = params.some((p) => p.in === 'header' && /^idempotency-key$/i.test(p.name));
    const reasons = [BUSY, own[409]?.[0], idempotent ? IDEMPOTENCY_REUSED : undefined];
    errors[409] = error(reasons.filter(Boolean).join('; or '), own[409]?.[1] ?? BUSY_EXAMPLE);
  }
  if (own[410]) errors[410] = error(...own[410]);
  // Fastify reads a body sent to any route but a GET's, declared or not.
  if (method !== 'get') {
    errors[413] = BODY_TOO_LARGE;
    errors[415] = NOT_JSON;
  }
  if (params.length > 0 || method !== 'get') errors[422] = validationFailed(op, params);
  if (meta.rateLimited) errors[429] = error(RATE_LIMITED[credential], RATE_EXAMPLE, true);
  const [unavailable, example] = own[503] ?? (credential === 'public' ? DRAINING : UNAVAILABLE);
  errors[503] = error(unavailable, example, true);
  return errors;
}
