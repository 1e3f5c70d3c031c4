import { randomUUID } from 'node:crypto';
import { signDevToken } from '../../src/auth/tokens';
import { JWT_SECRET, PLATFORM_KEY } from './replicas';

export interface Answer {
  route: string;
  status: number;
  body: string;
}

/** Every answer of a smoke run, and its tally by route and status. */
export interface SmokeResult {
  answers: Answer[];
  tally: Record<string, number>;
  /** Answers 409 "busy, retry" that were retried. */
  retries: number;
}

/**
 * Requests spread over `bases` in turn (replicas behind one load balancer), each answered or
 * counted as status 0 when the connection failed or took longer than 15 s.
 */
function client(bases: string[]) {
  let turn = 0;
  let retries = 0;
  const answers: Answer[] = [];
  const send = async (
    method: string,
    route: string,
    path: string,
    headers: Record<string, string>,
    body?: object,
  ) => {
    let answer: Answer;
    for (let attempt = 1; ; attempt++) {
      const base = bases[turn++ % bases.length];
      try {
        const res = await fetch(`${base}${path}`, {
          method,
          headers: { 'content-type': 'application/json', ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(15_000),
        });
        answer = { route: `${method} ${route}`, status: res.status, body: await res.text() };
      } catch (error) {
        answer = { route: `${method} ${route}`, status: 0, body: String(error) };
      }
      // 409 "busy, retry" (a row or advisory lock not granted in time) is retried as a client
      // does, after its Retry-After; it is counted, but only the last answer is judged.
      if (answer.status !== 409 || !answer.body.includes('retry') || attempt === 4) break;
      retries++;
      await new Promise((r) => setTimeout(r, 1000));
    }
    answers.push(answer);
    return answer;
  };
  return { send, answers, retries: () => retries };
}

const json = (answer: Answer) => JSON.parse(answer.body) as Record<string, unknown>;

/**
 * The API's main routes as a tenant admin and an agent runtime use them, `clients` at once for
 * `rounds` rounds each: workflows created, advanced and listed; rules created and listed;
 * events recorded against them; approvals requested and listed.
 */
export async function smoke(bases: string[], clients = 8, rounds = 4): Promise<SmokeResult> {
  const { send, answers, retries } = client(bases);
  const must = async (answer: Promise<Answer>, status: number) => {
    const a = await answer;
    if (a.status !== status) throw new Error(`${a.route}: ${a.status} ${a.body}`);
    return json(a);
  };
  const platform = { 'X-Platform-Key': PLATFORM_KEY };
  const tenantId = (
    await must(
      send('POST', '/platform/v1/tenants', '/platform/v1/tenants', platform, { name: 'Smoke' }),
      201,
    )
  ).id as string;
  const admin = {
    Authorization: `Bearer ${signDevToken(JWT_SECRET, { sub: randomUUID(), tenantId, customerId: null, role: 'admin' })}`,
  };
  const customer = (
    await must(send('POST', '/v1/customers', '/v1/customers', admin, { name: 'Acme' }), 201)
  ).id as string;
  const instance = (
    await must(send('POST', '/v1/instances', '/v1/instances', admin, { name: 'Desk' }), 201)
  ).id as string;
  const key = (
    await must(
      send(
        'POST',
        '/v1/instances/{id}/proxy-keys',
        `/v1/instances/${instance}/proxy-keys`,
        admin,
        {},
      ),
      201,
    )
  ).key as string;
  const runtime = { Authorization: `Bearer ${key}` };
  const internal = `/internal/v1/instances/${instance}`;
  const i = '/internal/v1/instances/{id}';

  const one = async (n: number, round: number) => {
    const created = await send('POST', `${i}/workflows`, `${internal}/workflows`, runtime, {
      customer_id: customer,
      workflow_type: 'rent_arrears',
      workflow_state: { round },
    });
    const workflow = created.status === 201 ? (json(created).id as string) : null;
    await Promise.all([
      workflow &&
        send('PATCH', `${i}/workflows/{id}`, `${internal}/workflows/${workflow}`, runtime, {
          action: 'noted',
          stage: `stage-${round}`,
        }),
      send('GET', '/v1/workflows', '/v1/workflows?per_page=5', admin),
      send('POST', '/v1/rules', '/v1/rules', admin, {
        name: `Rule ${n}-${round}`,
        trigger_event: 'skill.invoked',
        conditions: [{ field: 'amount', operator: 'gt', value: 10_000 + n }],
        actions: [{ type: 'block', reason: 'smoke' }],
      }),
      send('GET', '/v1/rules', '/v1/rules', admin),
    ]);
    await Promise.all([
      send('POST', `${i}/events`, `${internal}/events`, runtime, {
        event: 'skill.invoked',
        customer_id: customer,
        payload: { skill_slug: 'payments', amount: 50 + round },
      }),
      send('POST', `${i}/approvals/request`, `${internal}/approvals/request`, runtime, {
        customer_id: customer,
        skill_slug: 'payments',
        action: 'pay_contractor',
        serialized_intent: { amount: n * 100 + round },
      }),
      send('GET', '/v1/events', '/v1/events', admin),
    ]);
    await Promise.all([
      send(
        'GET',
        `${i}/approvals/pending`,
        `${internal}/approvals/pending?customer_id=${customer}`,
        runtime,
      ),
      send('GET', '/v1/approvals', '/v1/approvals', admin),
      workflow && send('GET', '/v1/workflows/{id}', `/v1/workflows/${workflow}`, admin),
    ]);
  };
  // One pass alone first, as traffic arrives at replicas just started: it opens their first
  // pooled connections before the burst asks for more.
  await one(clients, -1);
  await Promise.all(
    Array.from({ length: clients }, async (_, n) => {
      for (let round = 0; round < rounds; round++) await one(n, round);
    }),
  );
  const tally: Record<string, number> = {};
  for (const a of answers)
    tally[`${a.route} ${a.status}`] = (tally[`${a.route} ${a.status}`] ?? 0) + 1;
  return { answers, tally, retries: retries() };
}
