import request from 'supertest';
import { WorkflowCountCompactor } from '../../src/workflows/workflow-count-compactor';
import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';
import { assertInvariants } from '../helpers/invariants';

/**
 * Many clients at once against one tenant, each a promise chain of mixed calls. Afterwards every
 * refusal must have been a clean 4xx, and what the responses say happened must be exactly what
 * the database holds (test/helpers/invariants.ts). Each client draws its mix from its own
 * seeded generator; STRESS_SEED changes the mix (the interleaving is the scheduler's), and
 * STRESS_SUMMARY=1 prints how many calls of each kind got which status.
 */
const SEED = Number(process.env.STRESS_SEED || 424242);
const CLIENTS = 48;
const STEPS = 8;
const SHARED_WORKFLOWS = 8; // few hot workflows, so changes to one of them really do race

/** mulberry32: small, seedable, good enough to pick operations. */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), s | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
type Random = () => number;
const pick = <T>(r: Random, list: T[]): T => list[Math.floor(r() * list.length)];

type Kind = 'create' | 'change' | 'event' | 'request' | 'resolve' | 'bind';
interface Call {
  kind: Kind;
  what: string;
  allowed: number[]; // the statuses the contract permits for this call in this race
  status: number; // 0: no HTTP answer at all
  body: request.Response['body'];
  target?: string; // the workflow, approval, customer or binding key the call was about
  resolution?: 'approve' | 'reject';
}
interface Instance {
  id: string;
  headers: Record<string, string>;
}

const show = (c: Call) => `${c.what} ${c.target ?? ''} → ${c.status} ${JSON.stringify(c.body)}`;
const countBy = <T>(items: T[], key: (x: T) => string) =>
  items.reduce((m, x) => m.set(key(x), (m.get(key(x)) ?? 0) + 1), new Map<string, number>());
const retryLater = (res: { status: number; headers?: object }) =>
  (res.status === 409 || res.status === 429) &&
  (res.headers as Record<string, string> | undefined)?.['retry-after'] === '1';
/** The wire format: 422 lists {loc, msg, type}; every other error is exactly {"detail": "<text>"}. */
const wireError = (c: Call) =>
  c.status === 422
    ? Array.isArray(c.body?.detail) &&
      c.body.detail.every((d: object) => 'loc' in d && 'msg' in d && 'type' in d)
    : typeof c.body?.detail === 'string' && Object.keys(c.body).length === 1;

describe(`stress (seed ${SEED})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('keeps every invariant under concurrent mixed load', async () => {
    const calls: Call[] = [];
    /** Sends and records whatever comes back; never throws, so one failure cannot hide others. */
    const call = async (
      kind: Kind,
      what: string,
      allowed: number[],
      req: PromiseLike<request.Response>,
      extra: Partial<Call> = {},
    ): Promise<Call> => {
      let res: { status: number; body: request.Response['body']; headers?: object };
      try {
        res = await req;
      } catch (e) {
        res = { status: 0, body: { error: String(e) } };
      }
      // Any call may be told to retry in a moment (a row held past the lock timeout: 409 busy;
      // the tenant's share of connections full past its wait: 429). It changes nothing, which
      // the invariants below check like any refusal.
      const retry = retryLater(res) ? [res.status] : [];
      const c: Call = {
        kind,
        what,
        allowed: [...allowed, ...retry],
        status: res.status,
        body: res.body,
        ...extra,
      };
      calls.push(c);
      return c;
    };

    // --- a tenant with customers, two instances and rules of every action kind ---
    const a = await TenantSession.create(t, 'Stress');
    const b = await TenantSession.create(t, 'Neighbour'); // same addresses in another tenant: fine
    const customers = [await a.customer(), await a.customer(), await a.customer()];
    const person = await a.person(customers[0]);
    const instance = async (s: TenantSession): Promise<Instance> => {
      const id = await s.instance();
      return { id, headers: (await s.proxyKey(id)).headers };
    };
    const instances = [await instance(a), await instance(a)];
    const byInstance = new Map(instances.map((i) => [i.id, i]));
    const neighbour = { customer: await b.customer(), inst: await instance(b) };
    const neighbourPerson = await b.person(neighbour.customer);

    const rule = async (body: object): Promise<string> => {
      const res = await t
        .http()
        .post('/v1/rules')
        .set(a.admin)
        .send({ name: 'stress', trigger_event: 'skill.invoked', cooldown_seconds: 0, ...body });
      expect(res.status).toBe(201);
      return res.body.id;
    };
    const approval = { type: 'require_approval', skill_slug: 'payments', action: 'pay_contractor' };
    const rules = {
      notifyEach: await rule({
        customer_id: customers[0],
        actions: [{ type: 'notify', to: 'ops', message: 'each' }],
      }),
      onceAnHourPerCustomer: await rule({ cooldown_seconds: 3600, actions: [approval] }),
      bigSpend: await rule({
        conditions: [{ field: 'amount', operator: 'gt', value: 700 }],
        actions: [
          { ...approval, approver_role: 'owner' },
          { type: 'notify', to: 'finance', message: 'big' },
        ],
      }),
      leadMaker: await rule({
        customer_id: customers[1],
        actions: [{ type: 'create_workflow', workflow_type: 'lead', stage: 'new' }],
      }),
      // fires about once a second: each claim races the events that arrive meanwhile
      blockBurst: await rule({
        customer_id: customers[2],
        cooldown_seconds: 1,
        actions: [{ type: 'block', reason: 'slow down' }],
      }),
    };

    // --- the operations; what each creates joins the pools the others draw from ---
    const workflows: { id: string; inst: Instance }[] = [];
    const approvals = new Map<string, { ref: string; inst: Instance; role: string }>();
    const addApproval = (x: Record<string, string>) =>
      approvals.set(x.id, {
        ref: x.approval_ref,
        inst: byInstance.get(x.instance_id)!,
        role: x.approver_role,
      });

    const createWorkflow = async (r: Random) => {
      const inst = pick(r, instances);
      const c = await call(
        'create',
        'create workflow',
        [201],
        t
          .http()
          .post(`/internal/v1/instances/${inst.id}/workflows`)
          .set(inst.headers)
          .send({ customer_id: pick(r, customers), workflow_type: 'rent_arrears', stage: 'new' }),
      );
      if (c.status === 201) workflows.push({ id: c.body.id, inst });
    };

    // Mostly open statuses, so the hot workflows stay open long enough to keep racing.
    const ADVANCE_TO = 'active paused awaiting_approval active paused active completed suspended';
    const changeWorkflow = async (r: Random) => {
      const w = r() < 0.6 ? pick(r, workflows.slice(0, SHARED_WORKFLOWS)) : pick(r, workflows);
      const path = `/internal/v1/instances/${w.inst.id}/workflows/${w.id}`;
      const n = Math.floor(r() * 1e6);
      const x = r();
      const on = { target: w.id };
      if (x < 0.55) {
        const status = r() < 0.5 ? undefined : pick(r, ADVANCE_TO.split(' '));
        const body = { action: `step_${n}`, stage: `s${n % 5}`, workflow_state: { [`k${n}`]: n } };
        await call(
          'change',
          `advance to ${status ?? '(same)'}`,
          status === 'suspended' ? [409] : [200, 409], // suspended is entered only by suspend
          t
            .http()
            .patch(path)
            .set(w.inst.headers)
            .send({ ...body, status }),
          on,
        );
      } else if (x < 0.75) {
        const send = t.http().post(`${path}/suspend`).set(w.inst.headers);
        await call(
          'change',
          'suspend',
          [200, 409],
          send.send({ step: `s${n}`, payload: { n } }),
          on,
        );
      } else if (x < 0.98) {
        const send = t.http().post(`${path}/resume`).set(w.inst.headers);
        await call('change', 'resume', [200, 409], send.send({ resume_data: { n } }), on);
      } else {
        const send = t.http().post(`/v1/workflows/${w.id}/abort`).set(a.admin);
        await call('change', 'abort', [200, 409], send, on);
      }
    };

    const fireEvent = async (r: Random) => {
      const inst = pick(r, instances);
      const customer = pick(r, customers);
      const payload = { skill_slug: 'payments', action: 'pay_contractor', currency: 'GBP' };
      const c = await call(
        'event',
        'event',
        [200],
        t
          .http()
          .post(`/internal/v1/instances/${inst.id}/events`)
          .set(inst.headers)
          .send({
            event: 'skill.invoked',
            customer_id: customer,
            payload: { ...payload, amount: Math.floor(r() * 1000) },
          }),
        { target: customer },
      );
      if (c.status !== 200) return;
      c.body.approvals.forEach(addApproval);
      for (const w of c.body.workflows) workflows.push({ id: w.id, inst });
    };

    /** Some requests reuse one of three idempotency keys, each always with the same body. */
    const requestApproval = async (r: Random) => {
      const key = r() < 0.4 ? Math.floor(r() * 3) : null;
      const n = key ?? Math.floor(r() * 1e6);
      const inst = pick(r, instances);
      const c = await call(
        'request',
        'request approval',
        key === null ? [201] : [200, 201],
        t
          .http()
          .post(`/internal/v1/instances/${inst.id}/approvals/request`)
          .set(inst.headers)
          .send({
            customer_id: customers[n % 3],
            skill_slug: 'payments',
            action: 'pay_contractor',
            serialized_intent: {
              contractor_id: `C-${n}`,
              amount: 100 + (n % 500),
              currency: 'GBP',
            },
            approver_role: n % 2 ? 'owner' : 'customer',
            idempotency_key: key === null ? undefined : `stress-${key}`,
          }),
        { target: key === null ? undefined : `stress-${key}` },
      );
      if (c.status === 200 || c.status === 201) addApproval(c.body);
    };

    /**
     * 2–3 resolves of one ref at once: approve and reject race; one in five is refused. Mostly
     * refs not yet settled, so most bursts race for a pending approval.
     */
    const settled = new Set<string>();
    const resolveApproval = async (r: Random) => {
      const open = [...approvals].filter(([id]) => !settled.has(id));
      const [id, ap] = pick(r, open.length > 0 && r() < 0.8 ? open : [...approvals]);
      const tries = 2 + Math.floor(r() * 2);
      const results = await Promise.all(
        Array.from({ length: tries }, () => {
          const y = r();
          const resolution = r() < 0.5 ? 'approve' : 'reject';
          const wrongRole = ap.role === 'owner' ? 'customer' : 'owner';
          const refused = y < 0.2; // no PIN, or the wrong role: 403 while pending, 409 after
          return call(
            'resolve',
            `${resolution}${refused ? ' (refused)' : ''}`,
            refused ? [403, 409] : [200, 409],
            t
              .http()
              .post(`/internal/v1/instances/${ap.inst.id}/approvals/resolve`)
              .set(ap.inst.headers)
              .send({
                approval_ref: ap.ref,
                action: resolution,
                pin_verified: y >= 0.1,
                resolver_role: y < 0.2 && y >= 0.1 ? wrongRole : ap.role,
              }),
            { target: id, resolution: refused ? undefined : resolution },
          );
        }),
      );
      if (results.some((c) => c.status !== 403)) settled.add(id); // only a 403 leaves it pending
    };

    /** Two creates of one address at once, written two ways (normalisation must unify them). */
    const bind = async (r: Random) => {
      const digits = `7700900${100 + Math.floor(r() * 4)}`;
      const type = pick(r, ['whatsapp', 'sms']);
      const ours = r() < 0.75;
      const side = ours
        ? { tenant: a, inst: pick(r, instances), customer: customers[0], who: person }
        : { tenant: b, ...neighbour, who: neighbourPerson };
      const target = `${side.tenant.tenantId}|${type}|+44${digits}`;
      await Promise.all(
        [`+44${digits}`, `+44 ${digits.slice(0, 4)} ${digits.slice(4)}`].map((address) =>
          call(
            'bind',
            'bind',
            [201, 409],
            t
              .http()
              .post(`/internal/v1/instances/${side.inst.id}/worker-bindings`)
              .set(side.inst.headers)
              .send({
                channel_type: type,
                channel_address: address,
                customer_id: side.customer,
                person_id: side.who,
              }),
            { target },
          ),
        ),
      );
    };

    for (let i = 0; i < SHARED_WORKFLOWS; i++) await createWorkflow(generator(SEED + i));
    for (let i = 0; i < 4; i++) await requestApproval(generator(SEED + 100 + i));

    // --- the load ---
    const OPS: [number, (r: Random) => Promise<void>][] = [
      [2, createWorkflow],
      [5, changeWorkflow],
      [4, fireEvent],
      [1.5, requestApproval],
      [2, resolveApproval],
      [2, bind],
    ];
    const weight = OPS.reduce((sum, [w]) => sum + w, 0);
    const client = async (i: number) => {
      const r = generator(SEED * 7919 + i);
      for (let step = 0; step < STEPS; step++) {
        let x = r() * weight;
        const [, op] = OPS.find(([w]) => (x -= w) < 0) ?? OPS[0];
        await op(r);
      }
    };
    // The job folding workflow_counts runs while the writes it folds are still coming in.
    const compactor = t.app.get(WorkflowCountCompactor);
    const folding = async () => {
      for (let i = 0; i < 5; i++) {
        await compactor.runOnce();
        await new Promise((done) => setTimeout(done, 100));
      }
    };
    const started = Date.now();
    await Promise.all([...Array.from({ length: CLIENTS }, (_, i) => client(i)), folding()]);
    if (process.env.STRESS_SUMMARY) {
      const summary = [...countBy(calls, (c) => `${c.what} ${c.status}`)].sort();
      console.log(`stress: ${calls.length} calls in ${Date.now() - started} ms`, summary);
    }

    // --- every answer was one the contract allows, in the wire format ---
    expect(calls.filter((c) => c.status === 0 || c.status >= 500).map(show)).toEqual([]);
    expect(calls.filter((c) => !c.allowed.includes(c.status)).map(show)).toEqual([]);
    expect(calls.filter((c) => c.status >= 400 && !wireError(c)).map(show)).toEqual([]);

    // --- bindings: one 201 per address, however written, per tenant; 409s name the address ---
    const binds = calls.filter((c) => c.kind === 'bind');
    const created = countBy(
      binds.filter((c) => c.status === 201),
      (c) => c.target!,
    );
    const attempted = new Set(binds.map((c) => c.target!));
    const wrong = [...attempted].filter((k) => created.get(k) !== 1);
    expect(wrong.map((k) => `${k}: ${created.get(k) ?? 0} created`)).toEqual([]);
    const unnamed = binds.filter(
      (c) => c.status === 409 && !String(c.body.detail).includes(c.target!.split('|')[2]),
    );
    expect(unnamed.map(show)).toEqual([]);
    const stored = await t.raw.query('SELECT count(*)::int AS n FROM worker_bindings');
    expect(stored.rows[0].n).toBe(attempted.size);

    // --- approvals: one idempotent 201 per key, one winning resolve per ref ---
    const keyed = calls.filter((c) => c.kind === 'request' && c.target);
    for (const key of new Set(keyed.map((c) => c.target!))) {
      const same = keyed.filter((c) => c.target === key);
      const firsts = same.filter((c) => c.status === 201).length;
      expect([key, firsts, new Set(same.map((c) => c.body.id)).size]).toEqual([key, 1, 1]);
    }
    const winners = calls.filter((c) => c.kind === 'resolve' && c.status === 200);
    const twice = [...countBy(winners, (c) => c.target!)].filter(([, n]) => n > 1);
    expect(twice).toEqual([]);
    const approvalStatuses = new Map([...approvals.keys()].map((id) => [id, 'pending']));
    for (const c of winners) {
      const status = c.resolution === 'approve' ? 'approved' : 'rejected';
      expect([c.target, c.body.status]).toEqual([c.target, status]);
      approvalStatuses.set(c.target!, status);
    }

    // --- rules: trigger counts from `fired`; an hour's cooldown fires once per customer ---
    const events = calls.filter((c) => c.kind === 'event' && c.status === 200);
    const firedIds = (c: Call) => (c.body.fired as { rule_id: string }[]).map((f) => f.rule_id);
    const triggerCounts = new Map(
      Object.values(rules).map((id) => [id, events.filter((c) => firedIds(c).includes(id)).length]),
    );
    const hourly = events.filter((c) => firedIds(c).includes(rules.onceAnHourPerCustomer));
    expect([...countBy(hourly, (c) => c.target!)].filter(([, n]) => n > 1)).toEqual([]);

    // --- workflows: 1 `created` entry plus one per change that answered 200 ---
    const changes = countBy(
      calls.filter((c) => c.kind === 'change' && c.status === 200),
      (c) => c.target!,
    );
    const historyLengths = new Map(workflows.map((w) => [w.id, 1 + (changes.get(w.id) ?? 0)]));

    // Nothing exists that no response announced.
    const tenantRows = async (table: string) =>
      (
        await t.raw.query(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [
          a.tenantId,
        ])
      ).rows[0].n;
    expect(await tenantRows('workflows')).toBe(workflows.length);
    expect(await tenantRows('approvals')).toBe(approvals.size);

    await assertInvariants(t.raw, { historyLengths, triggerCounts, approvalStatuses });
  }, 60_000);
});
