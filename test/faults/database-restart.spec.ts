import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';
import { assertInvariants } from '../helpers/invariants';
import { captureLogs } from '../helpers/log-lines';
import { startDatabase, stopDatabase } from './database-control';

/** Every request, refused or not, must be answered within this: failing fast, not hanging. */
const FAIL_FAST_MS = 3000;
/** /readyz must say 503 within this (its own database probe gives up after 2 s). */
const READY_DOWN_MS = 2500;
const CLIENTS = 6;
const DOWN_FOR_MS = 3000;

type Kind = 'list' | 'create' | 'advance' | 'ready';
interface Outcome {
  kind: Kind;
  started: number;
  ms: number;
  /** HTTP status; 0 when the request hung past its timeout or the connection broke. */
  status: number;
  body: unknown;
  retryAfter: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const UNAVAILABLE = { detail: 'Database unavailable' };
/** A write whose COMMIT was cut off by the shutdown: it may or may not have been saved. */
const UNSURE = {
  detail: 'Database connection lost while committing: the change may or may not have been saved',
};
const isUnsure = (o: Outcome) => o.status === 503 && isDeepStrictEqual(o.body, UNSURE);

async function call(base: string, kind: Kind, path: string, init: RequestInit = {}) {
  const started = Date.now();
  const outcome = (status: number, body: unknown, retryAfter: string | null = null): Outcome => ({
    kind,
    started,
    ms: Date.now() - started,
    status,
    body,
    retryAfter,
  });
  try {
    const res = await fetch(`${base}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', ...(init.headers as object) },
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    return outcome(res.status, text ? JSON.parse(text) : null, res.headers.get('retry-after'));
  } catch (error) {
    return outcome(0, String(error));
  }
}

/**
 * Clients that loop list → create → advance → advance (real credentials: a tenant-admin JWT
 * and a proxy key) until stopped, recording every answer, the workflows whose creation was
 * answered 201, how many advances of each were answered 200, and how many of each were
 * answered "may or may not have been saved".
 */
async function startLoad(base: string, a: TenantSession) {
  const customer = await a.customer();
  const instance = await a.instance();
  const runtime = (await a.proxyKey(instance)).headers;
  const workflows = `/internal/v1/instances/${instance}/workflows`;
  const created: string[] = [];
  const advances = new Map<string, number>();
  const unsureAdvances = new Map<string, number>();
  let unsureCreates = 0;
  const outcomes: Outcome[] = [];
  let running = true;
  let step = 0;

  const client = async (n: number) => {
    for (let i = n; running; i++) {
      const kind = (['list', 'create', 'advance', 'advance'] as const)[i % 4];
      const id = created[(i * 7 + n) % Math.max(created.length, 1)];
      let outcome: Outcome;
      if (kind === 'list') {
        outcome = await call(base, kind, '/v1/workflows?per_page=5', { headers: a.admin });
      } else if (kind === 'create' || !id) {
        outcome = await call(base, 'create', workflows, {
          method: 'POST',
          headers: runtime,
          body: JSON.stringify({ customer_id: customer, workflow_type: 'rent_arrears' }),
        });
        if (outcome.status === 201) created.push((outcome.body as { id: string }).id);
        if (isUnsure(outcome)) unsureCreates++;
      } else {
        outcome = await call(base, kind, `${workflows}/${id}`, {
          method: 'PATCH',
          headers: runtime,
          body: JSON.stringify({ action: 'noted', stage: `step-${step++}` }),
        });
        if (outcome.status === 200) advances.set(id, (advances.get(id) ?? 0) + 1);
        if (isUnsure(outcome)) unsureAdvances.set(id, (unsureAdvances.get(id) ?? 0) + 1);
      }
      outcomes.push(outcome);
      if (outcome.status >= 300) await sleep(20); // as a client backs off
    }
  };
  const done = Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
  return {
    outcomes,
    created,
    advances,
    unsureAdvances,
    unsureCreates: () => unsureCreates,
    async stop() {
      running = false;
      await done;
    },
  };
}

describe('the database stops under load and comes back', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    // Background jobs on: they too meet the outage and must neither crash nor wedge the pool.
    t = await startTestApp({
      SWEEP_INTERVAL_MS: '500',
      COUNTS_COMPACT_INTERVAL_MS: '500',
      OUTBOX_POLL_INTERVAL_MS: '500',
      LOG_LEVEL: 'warn', // what the jobs log while it is down is asserted below
    });
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await startDatabase(); // a no-op unless an assertion failed while it was down
    await t.close();
  });

  it('refuses fast with 503 while down, recovers by itself, keeps each change exactly once', async () => {
    const logs = captureLogs();
    const a = await TenantSession.create(t, 'Faults');
    const load = await startLoad(base, a);
    const { outcomes } = load;
    const ok = (o: Outcome) => o.status >= 200 && o.status < 300;
    for (let i = 0; i < 200 && outcomes.filter(ok).length < 40; i++) await sleep(50);

    await stopDatabase();
    const stoppedAt = Date.now();
    const readyWhileDown: Outcome[] = [];
    while (Date.now() - stoppedAt < DOWN_FOR_MS) {
      readyWhileDown.push(await call(base, 'ready', '/readyz'));
      await sleep(250);
    }
    const startingAt = Date.now();
    await startDatabase();
    const startedAt = Date.now();
    let readyAt = 0;
    while (!readyAt && Date.now() - startedAt < 20_000) {
      if ((await call(base, 'ready', '/readyz')).status === 200) readyAt = Date.now();
      else await sleep(100);
    }
    await sleep(1500); // keep the load on the recovered database a little
    await load.stop();
    const lines = logs.lines();
    logs.stop();
    // The background jobs polled all along (every 500 ms, several of them): the outage is one
    // warning without a stack when it starts and one line when it ends, not a line per poll.
    const outage = lines.filter((l) => l.context === 'DatabaseOutage');
    expect(outage.map((l) => [l.level, l.msg])).toEqual([
      [40, expect.stringMatching(/^database unreachable/)],
      [40, 'database reachable again'],
    ]);
    expect(JSON.stringify(outage)).not.toContain('stack');
    const jobLines = lines.filter(
      (l) => typeof l.context === 'string' && !['DatabaseOutage', 'Errors'].includes(l.context),
    );
    expect(jobLines.filter((l) => l.level >= 40)).toEqual([]);

    const down = outcomes.filter((o) => o.started >= stoppedAt && o.started < startingAt);
    const after = outcomes.filter((o) => readyAt && o.started >= readyAt);
    const refused = outcomes.filter((o) => o.status === 503);
    const slowest = (list: Outcome[]) => Math.max(0, ...list.map((o) => o.ms));
    const successes = [...load.advances.values()].reduce((sum, n) => sum + n, 0);
    console.log(
      [
        `requests: ${outcomes.length} (${down.length} while down, ${after.length} after recovery)`,
        `503s: ${refused.length}, slowest ${slowest(refused)} ms; slowest of all ${slowest(outcomes)} ms`,
        `slowest /readyz while down: ${slowest(readyWhileDown)} ms`,
        `restart: ${startedAt - startingAt} ms to accept connections, API ready ${readyAt - startedAt} ms later`,
        `workflows created: ${load.created.length}, advances answered 200: ${successes}`,
        `writes whose commit was cut off: ${outcomes.filter(isUnsure).length}`,
      ].join('\n'),
    );

    // Nothing hung, broke the connection or leaked a 500: 2xx, or 503 in the wire format, fast.
    const odd = outcomes.filter((o) => ![200, 201, 503].includes(o.status));
    expect(odd.map((o) => `${o.kind} ${o.status} ${JSON.stringify(o.body)}`)).toEqual([]);
    expect(slowest(outcomes)).toBeLessThan(FAIL_FAST_MS);
    for (const o of refused) {
      // Only a write can be unsure of its outcome; a read changed nothing.
      if (!(o.kind !== 'list' && isUnsure(o))) expect(o.body).toEqual(UNAVAILABLE);
      expect(o.retryAfter).toMatch(/^\d+$/);
    }
    // While it is down every request of every kind is refused, and the load really was on.
    expect(down.length).toBeGreaterThan(20);
    expect(new Set(down.map((o) => o.kind))).toEqual(new Set(['list', 'create', 'advance']));
    expect(down.filter((o) => o.status !== 503)).toEqual([]);
    expect(readyWhileDown.map((o) => o.status)).toEqual(readyWhileDown.map(() => 503));
    expect(slowest(readyWhileDown)).toBeLessThan(READY_DOWN_MS);

    // Back without restarting the API: ready soon after the database, and everything succeeds.
    expect(readyAt).toBeGreaterThan(0);
    expect(readyAt - startedAt).toBeLessThan(5000);
    expect(after.length).toBeGreaterThan(20);
    expect(after.filter((o) => !ok(o)).map((o) => `${o.kind} ${o.status}`)).toEqual([]);

    // Every change answered 2xx is stored, none half-written; the only others are writes the
    // client was told may have been saved, each at most once.
    const stored = await t.raw.query<{ id: string; entries: number }>(
      'SELECT id, jsonb_array_length(history) AS entries FROM workflows WHERE tenant_id = $1',
      [a.tenantId],
    );
    const entries = new Map(stored.rows.map((r) => [r.id, r.entries]));
    expect(load.created.filter((id) => !entries.has(id))).toEqual([]);
    const extra = stored.rows.filter((r) => !load.created.includes(r.id));
    expect(extra.length).toBeLessThanOrEqual(load.unsureCreates());
    const historyLengths = new Map(extra.map((r) => [r.id, 1]));
    const outOfRange: string[] = [];
    for (const id of load.created) {
      const sure = 1 + (load.advances.get(id) ?? 0);
      const unsure = load.unsureAdvances.get(id) ?? 0;
      const n = entries.get(id) ?? 0;
      if (!unsure) historyLengths.set(id, sure);
      else if (n < sure || n > sure + unsure)
        outOfRange.push(`${id}: ${n} not in ${sure}..${sure + unsure}`);
    }
    expect(outOfRange).toEqual([]);
    await assertInvariants(t.raw, { historyLengths });
  });
});
