import fc from 'fast-check';
import { TestApp, startTestApp } from '../helpers/app';
import { QUIET_WEBHOOK_ENV } from '../helpers/webhooks';
import { guaranteedCases, requestArb } from '../fuzz/arbitraries';
import { FOUND_BUGS, FoundBug } from '../fuzz/found-bugs';
import { clip, describeCase, wireProblems } from '../fuzz/oracle';
import { FUZZED_ROUTES, OpenApiDoc, Route, openApiRoutes } from '../fuzz/routes';
import { FuzzContext } from '../fuzz/schema-values';
import {
  FuzzRequest,
  World,
  buildWorld,
  fingerprinter,
  platformHeaders,
  send,
} from '../fuzz/world';

/**
 * Property-based fuzzing of every route in /openapi.json (the wire format): for requests made of
 * the route's own schema and of everything it forbids, sent with a valid credential for the
 * route (so they reach validation and the service, not just the guard),
 *   - the answer is never a 5xx;
 *   - every 4xx is `{"detail": …}` in the wire format (a field list for 422);
 *   - a refused request commits nothing (database fingerprint unchanged).
 * `npm test` runs FUZZ_RUNS (default 200) cases per route with FUZZ_SEED (default 42);
 * `npm run fuzz` runs 2000 with a random seed, printed first, so a failure replays with
 * `FUZZ_SEED=<seed> FUZZ_RUNS=<runs> npx jest test/e2e/fuzz.spec.ts -t '<METHOD /path>'`.
 * FUZZ_VERBOSE=1 prints the statuses seen per route.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const SEED =
  process.env.FUZZ_SEED === 'random'
    ? Math.floor(Math.random() * 2 ** 31)
    : Number(process.env.FUZZ_SEED ?? 42);
/** About 1.2 s per 200 cases on 2 cores; generous for a loaded machine and for shrinking. */
const ROUTE_TIMEOUT_MS = Math.max(60_000, RUNS * 100);

describe('fuzz', () => {
  let t: TestApp;
  let routes: Map<string, Route>;
  let events: string[];
  let fingerprint: () => Promise<string>;
  let readWorld: World | undefined;
  /** Per route, per status: how many, and one response (FUZZ_VERBOSE=1 prints them). */
  const statuses = new Map<string, Map<number, { n: number; sample: string }>>();

  beforeAll(async () => {
    process.stdout.write(`fuzz: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}\n`);
    t = await startTestApp(QUIET_WEBHOOK_ENV);
    const get = async (url: string) =>
      JSON.parse((await send(t, { kind: 'setup', method: 'GET', url, headers: {} })).text);
    const doc = (await get('/openapi.json')) as OpenApiDoc;
    routes = new Map(openApiRoutes(doc).map((r) => [r.key, r]));
    events = ((await get('/v1/rules/trigger-types')) as { event: string }[]).map((e) => e.event);
    fingerprint = await fingerprinter(t);
  });
  afterAll(async () => {
    if (process.env.FUZZ_VERBOSE) {
      for (const [route, seen] of statuses) {
        const byStatus = [...seen].sort(([a], [b]) => a - b);
        process.stdout.write(`${route}: ${byStatus.map(([s, { n }]) => `${s}×${n}`).join(' ')}\n`);
        for (const [s, { sample }] of byStatus) {
          if (s >= 400) process.stdout.write(`  ${s} e.g. ${clip(sample, 240)}\n`);
        }
      }
    }
    await t?.close();
  });

  it('covers exactly the routes /openapi.json describes', () => {
    const described = [...routes.keys()].sort();
    expect({ missing: described.filter((r) => !FUZZED_ROUTES.includes(r)) }).toEqual({
      missing: [],
    });
    expect({ stale: FUZZED_ROUTES.filter((r) => !routes.has(r)) }).toEqual({ stale: [] });
  });

  it('has a fingerprint that sees inserts, updates and deletes, and not reads or refusals', async () => {
    const world = await buildWorld(t);
    const call = (method: string, url: string, body?: object) =>
      send(t, {
        kind: 'oracle',
        method,
        url,
        headers: { ...world.auth.jwt, 'content-type': 'application/json' },
        ...(body ? { payload: JSON.stringify(body) } : {}),
      });
    const rule = `/v1/rules/${world.ids.rule_id[0]}`;
    const steps: [string, () => ReturnType<typeof call>, boolean][] = [
      ['read', () => call('GET', '/v1/customers'), false],
      ['refused insert', () => call('POST', '/v1/customers', { name: '' }), false],
      ['insert', () => call('POST', '/v1/customers', { name: 'Oracle' }), true],
      ['update', () => call('PATCH', rule, { priority: 7 }), true],
      ['delete', () => call('DELETE', rule), true],
    ];
    for (const [what, step, writes] of steps) {
      const before = await fingerprint();
      const res = await step();
      expect({ what, status: res.status < 400, changed: (await fingerprint()) !== before }).toEqual(
        { what, status: what !== 'refused insert', changed: writes },
      );
    }
  });

  describe('every route keeps the wire contract', () => {
    it.each(FUZZED_ROUTES)(
      '%s',
      async (key) => {
        const route = routes.get(key);
        if (!route) throw new Error(`${key} is not in /openapi.json`);
        // GETs change nothing a later route needs, so they share one world; every other
        // route gets a fresh one (its happy path may revoke, delete or end what it aims at).
        const world =
          route.method === 'GET' ? (readWorld ??= await buildWorld(t)) : await buildWorld(t);
        const ctx: FuzzContext = { world, events };
        const seen = new Map<number, { n: number; sample: string }>();
        statuses.set(key, seen);
        const examples = guaranteedCases(route, ctx, SEED);
        let before = await fingerprint(); // each case's "after" is the next case's "before"
        const property = fc.asyncProperty(requestArb(route, ctx), async (req) => {
          const res = await send(t, req);
          const after = await fingerprint();
          const s = seen.get(res.status) ?? { n: 0, sample: `${req.kind} → ${res.text}` };
          seen.set(res.status, { ...s, n: s.n + 1 });
          const problems = wireProblems(res);
          if (res.status >= 400 && after !== before)
            problems.push(`refused with ${res.status} but wrote: ${changed(before, after)}`);
          before = after;
          if (problems.length > 0) throw new Error(describeCase(req, res, problems));
        });
        await fc.assert(property, {
          seed: SEED,
          numRuns: Math.max(RUNS, examples.length), // the examples are the first cases
          examples: examples.map((e) => [e]),
        });
      },
      ROUTE_TIMEOUT_MS,
    );
  });

  describe('bugs the fuzzer found, replayed', () => {
    it.each(FOUND_BUGS.map((bug) => [`${bug.id}: ${bug.title}`, bug] as const))(
      '%s',
      async (_, bug) => {
        const req = reproFor(bug, await buildWorld(t));
        const res = await send(t, req);
        expect(describeCase(req, res, wireProblems(res))).toBe(describeCase(req, res, []));
        expect(res.status).toBe(bug.status);
      },
    );
  });
});

/** The bug's request with the world's ids in its `{…_id}` slots and a valid credential. */
function reproFor(bug: FoundBug, world: World): FuzzRequest {
  const credential =
    bug.credential === 'proxy'
      ? { Authorization: world.auth.proxy }
      : bug.credential === 'dashboard'
        ? world.auth.jwt
        : bug.credential === 'platform'
          ? platformHeaders
          : {};
  return {
    ...bug.repro,
    url: bug.repro.url.replace(/\{(\w+)\}/g, (_, name: string) => world.ids[name]?.[0] ?? name),
    headers: { ...bug.repro.headers, ...credential },
  };
}

/** Which tables a write touched, from two fingerprints. */
function changed(before: string, after: string): string {
  const was = new Set(before.split(' '));
  return after
    .split(' ')
    .filter((entry) => !was.has(entry))
    .join(' ');
}
