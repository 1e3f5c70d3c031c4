import fc from 'fast-check';
import { Parameter, Route, Schema } from './routes';
import { FuzzContext, jsonObject, jsonTypeOf, validValue, wrongType } from './schema-values';
import {
  BAD_CONTENT_TYPES,
  BAD_PATH_SEGMENTS,
  BAD_QUERY_VALUES,
  HUGE_JSON_STRING,
  MALFORMED_JSON,
  NON_OBJECT_BODIES,
  NUMERIC_STRINGS,
  RAW_NUMBERS,
  bigString,
  deepJson,
  edgeNumbers,
  nastyString,
  pctEncode,
} from './values';
import { FuzzRequest, platformHeaders } from './world';

/**
 * Requests for one route out of its OpenAPI description: mostly valid with one part broken
 * (body, path or query), sometimes entirely valid so the happy path runs and writes.
 */

interface Part {
  kind: string;
}
interface BodyPart extends Part {
  payload?: string;
  /** undefined: application/json when there is a payload; null: no Content-Type header. */
  contentType?: string | null;
}
interface PathPart extends Part {
  values: Record<string, string>;
}
interface QueryPart extends Part {
  query: string;
}

const VALID = 'valid';

// ---- bodies -------------------------------------------------------------------------------

/** Raw JSON text spliced where a placeholder string was: literals JSON.stringify cannot make. */
const RAW = '__fuzz_raw__';
function withRaw(body: Record<string, unknown>, key: string, raw: string): string {
  return JSON.stringify(set(body, key, RAW)).replace(JSON.stringify(RAW), () => raw);
}

/** Sets own properties even for `__proto__`, which plain assignment would treat specially. */
function set(body: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const copy = { ...body };
  Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

const json = (kind: string, payload: string, contentType?: string | null): BodyPart => ({
  kind,
  payload,
  contentType,
});

function validBody(schema: Schema, ctx: FuzzContext): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    model[name] = validValue(name, prop, ctx);
  }
  return fc.record(model, { requiredKeys: schema.required ?? [] });
}

/**
 * Hostile text where the field keeps its type: free-form JSON fields (stored as jsonb) get it
 * in keys and values, everything else in place of the value.
 */
function nastyFor(schema: Schema | undefined): fc.Arbitrary<unknown> {
  const type = schema ? jsonTypeOf(schema) : 'string';
  if (type === 'object' || type === 'any')
    return fc
      .tuple(nastyString, nastyString)
      .map(([k, v]) =>
        set({ text: v, list: [v], nested: { [k.length ? 'k' : 'empty']: v } }, k, v),
      );
  if (type === 'array') return nastyString.map((v) => [v, { value: v }]);
  return nastyString;
}

const EXTRA_KEYS = ['tenant_id', 'id', 'created_at', 'status', 'role', 'key_hash', 'tenantId'];

/** Broken bodies, by kind. Routes without a body schema get the ones that need no fields. */
export function bodyParts(route: Route, ctx: FuzzContext): Record<string, fc.Arbitrary<BodyPart>> {
  const schema = route.body ?? { type: 'object', properties: {} };
  const props = schema.properties ?? {};
  const names = Object.keys(props);
  const typed = names.filter((n) => jsonTypeOf(props[n]) !== 'any');
  const required = schema.required ?? [];
  const valid = route.body ? validBody(schema, ctx) : jsonObject;
  const field = (pool: string[]) => fc.constantFrom(...(pool.length ? pool : ['unknown_field']));
  const text = (b: Record<string, unknown>) => JSON.stringify(b);
  const parts: Record<string, fc.Arbitrary<BodyPart>> = {
    'extra-fields': fc
      .tuple(
        valid,
        fc.array(
          fc.tuple(
            fc.oneof(fc.constantFrom(...EXTRA_KEYS, '__proto__', 'constructor'), fc.string()),
            fc.jsonValue({ maxDepth: 2 }),
          ),
          { minLength: 1, maxLength: 4 },
        ),
      )
      .map(([b, extras]) =>
        json('extra-fields', text(extras.reduce((acc, [k, v]) => set(acc, k, v), b))),
      ),
    'nasty-string': fc
      .tuple(valid, field(names))
      .chain(([b, k]) => nastyFor(props[k]).map((v) => json('nasty-string', text(set(b, k, v))))),
    'edge-number': fc.tuple(valid, field(names)).chain(([b, k]) =>
      fc.oneof(
        fc
          .constantFrom(...edgeNumbers(props[k]?.minimum, props[k]?.maximum))
          .map((n) => json('edge-number', text(set(b, k, n)))),
        fc.constantFrom(...NUMERIC_STRINGS).map((s) => json('numeric-string', text(set(b, k, s)))),
        fc.constantFrom(...RAW_NUMBERS).map((raw) => json('raw-number', withRaw(b, k, raw))),
      ),
    ),
    'big-string': fc
      .tuple(valid, field(names), bigString)
      .map(([b, k, v]) => json('big-string', text(set(b, k, v)))),
    'huge-body': fc
      .tuple(valid, field(names))
      .map(([b, k]) => json('huge-body', withRaw(b, k, HUGE_JSON_STRING))),
    'deep-nesting': fc.oneof(
      fc
        .tuple(valid, field(names), fc.constantFrom<'array' | 'object'>('array', 'object'))
        .map(([b, k, shape]) => json('deep-nesting', withRaw(b, k, deepJson(shape)))),
      fc.constant(json('deep-body', deepJson('object'))),
    ),
    malformed: fc.oneof(
      fc.constantFrom(...MALFORMED_JSON).map((p) => json('malformed', p)),
      fc
        .tuple(valid, fc.nat())
        .map(([b, n]) => json('truncated', text(b).slice(0, n % Math.max(text(b).length, 1)))),
    ),
    'non-object': fc.constantFrom(...NON_OBJECT_BODIES).map((p) => json('non-object', p)),
    'content-type': fc
      .tuple(valid, fc.constantFrom(...BAD_CONTENT_TYPES))
      .map(([b, ct]) => json('content-type', text(b), ct)),
    empty: fc.constantFrom(json('empty', ''), { kind: 'no-body', contentType: null }),
  };
  if (route.body) {
    parts['wrong-type'] = fc
      .constantFrom(...(typed.length ? typed : names))
      .chain((k) => fc.tuple(valid, fc.constant(k), wrongType(props[k])))
      .map(([b, k, v]) => json('wrong-type', text(set(b, k, v))));
  }
  if (required.length > 0) {
    parts['missing-required'] = fc.tuple(valid, field(required)).map(([b, k]) => {
      const copy = { ...b };
      delete copy[k];
      return json('missing-required', text(copy));
    });
  }
  return parts;
}

/**
 * How often each broken-body kind is drawn, against 48 for a fully valid request. The costly
 * ones (MiBs of text) are rare; 10,000-level nesting is not drawn at all but guaranteed once per
 * route as an example (it is refused by the JSON parser's depth limit; see BUG-1).
 */
const BODY_WEIGHTS: Record<string, number> = {
  'wrong-type': 16,
  'missing-required': 8,
  'extra-fields': 8,
  'nasty-string': 16,
  'edge-number': 16,
  'big-string': 2,
  'huge-body': 1,
  'deep-nesting': 0,
  malformed: 8,
  'non-object': 4,
  'content-type': 8,
  empty: 4,
};
/** Routes that take a body get twice the broken bodies; the cheap kinds only. */
const COSTLY = ['big-string', 'huge-body', 'deep-nesting'];

function validBodyPart(route: Route, ctx: FuzzContext): fc.Arbitrary<BodyPart> {
  if (!route.body) return fc.constant({ kind: VALID });
  return validBody(route.body, ctx).map((b) => json(VALID, JSON.stringify(b)));
}

// ---- path and query -----------------------------------------------------------------------

function validPath(route: Route, ctx: FuzzContext): fc.Arbitrary<PathPart> {
  const model: Record<string, fc.Arbitrary<string>> = {};
  for (const p of route.pathParams) {
    model[p.name] = validValue(
      p.name,
      { type: 'string', format: 'uuid' },
      ctx,
    ) as fc.Arbitrary<string>;
  }
  return fc.record(model).map((values) => ({ kind: VALID, values }));
}

function badPath(route: Route, ctx: FuzzContext): fc.Arbitrary<PathPart> {
  const otherIds = Object.values(ctx.world.ids).flat();
  return fc
    .tuple(validPath(route, ctx), fc.constantFrom(...route.pathParams.map((p) => p.name)))
    .chain(([base, name]) =>
      fc
        .oneof(
          fc.constantFrom(...BAD_PATH_SEGMENTS),
          nastyString.filter((s) => s !== '').map(pctEncode),
          fc.constantFrom(...otherIds), // an id of another kind of row
        )
        .map((segment) => ({ kind: 'bad-path', values: { ...base.values, [name]: segment } })),
    );
}

function queryValue(p: Parameter, ctx: FuzzContext): fc.Arbitrary<string> {
  const schema = p.schema ?? {};
  if (schema.type === 'boolean') return fc.constantFrom('true', 'false', '1', '0');
  return validValue(p.name, { ...schema, nullable: false }, ctx).map((v) => pctEncode(String(v)));
}

function validQuery(route: Route, ctx: FuzzContext): fc.Arbitrary<QueryPart> {
  const model: Record<string, fc.Arbitrary<string>> = {};
  for (const p of route.queryParams) model[p.name] = queryValue(p, ctx);
  const required = route.queryParams.filter((p) => p.required).map((p) => p.name);
  return fc.record(model, { requiredKeys: required }).map((values) => ({
    kind: VALID,
    query: Object.entries(values)
      .map(([k, v]) => `${k}=${v}`)
      .join('&'),
  }));
}

function badQuery(route: Route, ctx: FuzzContext): fc.Arbitrary<QueryPart> {
  const names = [...route.queryParams.map((p) => p.name), 'unknown', 'page[0]', '__proto__'];
  const param = (name: string) => route.queryParams.find((p) => p.name === name);
  const bad = (name: string): fc.Arbitrary<string> =>
    fc.oneof(
      nastyString.map(pctEncode),
      fc.constantFrom(...BAD_QUERY_VALUES, ...BAD_PATH_SEGMENTS.slice(0, 12)),
      fc
        .constantFrom(...edgeNumbers(param(name)?.schema?.minimum, param(name)?.schema?.maximum))
        .map((n) => pctEncode(String(n))),
      fc.constantFrom(...NUMERIC_STRINGS).map(pctEncode),
    );
  return fc.tuple(validQuery(route, ctx), fc.constantFrom(...names)).chain(([base, name]) =>
    fc
      .oneof(
        bad(name).map((v) => `${name}=${v}`),
        bad(name).map((v) => `${name}=${v}&${name}=${v}`), // repeated: Fastify makes an array
        fc.constant(`${name}`), // no '=' at all
        fc.constant(''), // required ones go missing
      )
      .map((q) => ({ kind: 'bad-query', query: [q, base.query].filter(Boolean).join('&') })),
  );
}

// ---- whole requests -----------------------------------------------------------------------

function credentials(route: Route, ctx: FuzzContext): fc.Arbitrary<Record<string, string>> {
  const { auth } = ctx.world;
  switch (route.credential) {
    case 'dashboard':
      // Both kinds, the JWT more often: an API key costs the app one more transaction per call.
      return fc.oneof(
        { weight: 3, arbitrary: fc.constant(auth.jwt) },
        { weight: 1, arbitrary: fc.constant(auth.apiKey) },
      );
    case 'proxy':
      return fc.constant({ Authorization: auth.proxy });
    case 'platform':
      return fc.constant(platformHeaders);
    default:
      return fc.constant({});
  }
}

function assemble(
  route: Route,
  headers: Record<string, string>,
  path: PathPart,
  query: QueryPart,
  body: BodyPart,
): FuzzRequest {
  const kinds = [path.kind, query.kind, body.kind].filter((k) => k !== VALID);
  const url =
    route.path.replace(/\{(\w+)\}/g, (_, name: string) => path.values[name] ?? '') +
    (query.query ? `?${query.query}` : '');
  const contentType: Record<string, string> =
    body.payload === undefined || body.contentType === null
      ? {}
      : { 'content-type': body.contentType ?? 'application/json' };
  const req: FuzzRequest = {
    kind: kinds.join('+') || VALID,
    method: route.method,
    url,
    headers: { ...headers, ...contentType },
    ...(body.payload === undefined ? {} : { payload: body.payload }),
  };
  // fast-check prints counterexamples with this: a 2 MiB payload must not flood the report.
  return Object.assign(req, {
    [fc.toStringMethod]: () =>
      `${req.kind}: ${req.method} ${req.url.slice(0, 200)} ${JSON.stringify(req.payload?.slice(0, 200) ?? null)} (${req.payload?.length ?? 0} chars)`,
  });
}

export function requestArb(route: Route, ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const cred = credentials(route, ctx);
  const okPath = validPath(route, ctx);
  const okQuery = validQuery(route, ctx);
  const okBody = validBodyPart(route, ctx);
  const build = (
    p: fc.Arbitrary<PathPart>,
    q: fc.Arbitrary<QueryPart>,
    b: fc.Arbitrary<BodyPart>,
  ) => fc.tuple(cred, p, q, b).map(([h, pp, qq, bb]) => assemble(route, h, pp, qq, bb));
  const broken = Object.entries(bodyParts(route, ctx))
    .map(([kind, arbitrary]) => ({
      weight: (BODY_WEIGHTS[kind] ?? 4) * (route.body && !COSTLY.includes(kind) ? 2 : 1),
      arbitrary: build(okPath, okQuery, arbitrary),
    }))
    .filter((choice) => choice.weight > 0);
  return fc.oneof(
    { weight: 48, arbitrary: build(okPath, okQuery, okBody) },
    ...broken,
    ...(route.pathParams.length
      ? [{ weight: 32, arbitrary: build(badPath(route, ctx), okQuery, okBody) }]
      : []),
    {
      weight: route.queryParams.length ? 32 : 8,
      arbitrary: build(okPath, badQuery(route, ctx), okBody),
    },
  );
}

/**
 * Cases every route gets on every run, whatever the seed: the expensive or rare shapes (2 MiB
 * and 100 kB bodies, 10,000 levels, malformed JSON, no Content-Type, a non-UUID in each path
 * slot), then one valid request. fast-check runs them first, as examples. The seed is mixed
 * with the route so the sampled shapes (array or object nesting, which field) vary by route.
 */
export function guaranteedCases(route: Route, ctx: FuzzContext, seed: number): FuzzRequest[] {
  const routeSeed = [...route.key].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, seed);
  const one = <T>(arb: fc.Arbitrary<T>) => fc.sample(arb, { seed: routeSeed, numRuns: 1 })[0];
  const cred = one(credentials(route, ctx));
  const path = one(validPath(route, ctx));
  const query = one(validQuery(route, ctx));
  const parts = bodyParts(route, ctx);
  const bodies = ['huge-body', 'big-string', 'deep-nesting', 'malformed'].map((k) => one(parts[k]));
  bodies.push(json('malformed', '{"a":'), { ...one(parts['content-type']), contentType: null });
  const out = bodies.map((b) => assemble(route, cred, path, query, b));
  const okBody = one(validBodyPart(route, ctx));
  for (const p of route.pathParams) {
    const bad = { kind: 'bad-path', values: { ...path.values, [p.name]: 'not-a-uuid' } };
    out.push(assemble(route, cred, bad, query, okBody));
  }
  out.push(assemble(route, cred, path, query, okBody));
  return out;
}
