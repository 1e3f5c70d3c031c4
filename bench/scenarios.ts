/**
 * The load scenarios of `npm run bench`, in the order they run: the request pipeline's cost
 * first (the bare framework's /healthz beside the API's /healthz and its static trigger
 * catalog), while the API has no background work yet: after the write scenarios its timers and
 * rule evaluator work through what they left, CPU that a 0.1 ms request would be charged with.
 * Then the baseline (every ratio is to it) and scenarios 1–6 against the API.
 */
import { randomUUID } from 'node:crypto';
import type { Options } from 'autocannon';
import { BENCH_EVENT_PAYLOAD, SeededTenant } from './seed';

export interface ScenarioSpec {
  name: string;
  /** Which process answers, and whose CPU is measured. */
  server: 'api' | 'baseline' | 'bare';
  options: Partial<Options> & { url: string };
}

/**
 * `t0` is the tenant with the 500 rules; `small` and `large` hold 1,000 and 100,000 workflows.
 * `token` signs a tenant-admin JWT for a tenant.
 */
export function scenarios(
  urls: { api: string; baseline: string; bare?: string },
  t0: SeededTenant,
  token: (t: SeededTenant) => string,
  small: SeededTenant,
  large: SeededTenant,
): ScenarioSpec[] {
  const internal = `${urls.api}/internal/v1/instances/${t0.instanceId}`;
  const proxy = { authorization: `Bearer ${t0.proxyKey}`, 'content-type': 'application/json' };
  return [
    ...pipeline(urls),
    {
      name: 'baseline (node:http + pg), scenario 1 work',
      server: 'baseline',
      options: {
        url: urls.baseline,
        headers: { authorization: token(t0) },
      },
    },
    {
      name: '1. GET /v1/workflows (page of 20 + total)',
      server: 'api',
      options: {
        url: `${urls.api}/v1/workflows`,
        headers: { authorization: token(t0) },
      },
    },
    {
      name: '2. GET /v1/workflows/{id}',
      server: 'api',
      options: {
        url: `${urls.api}/v1/workflows/${t0.workflowId}`,
        headers: { authorization: token(t0) },
      },
    },
    {
      name: '3. POST workflow then PATCH advance',
      server: 'api',
      options: {
        url: internal,
        requests: [
          {
            method: 'POST',
            path: `/internal/v1/instances/${t0.instanceId}/workflows`,
            headers: proxy,
            body: JSON.stringify({
              customer_id: t0.customerIds[0],
              workflow_type: 'lead',
              workflow_state: { source: 'bench' },
            }),
            onResponse: (status: number, body: string, context: Record<string, unknown>) => {
              if (status === 201) context.id = (JSON.parse(body) as { id: string }).id;
            },
          },
          {
            method: 'PATCH',
            headers: proxy,
            setupRequest: (req: Record<string, unknown>, context: Record<string, unknown>) => ({
              ...req,
              path: `/internal/v1/instances/${t0.instanceId}/workflows/${String(context.id)}`,
              body: JSON.stringify({
                action: 'contacted',
                stage: 'contacted',
                workflow_state: { step: 2 },
              }),
            }),
          },
        ] as unknown as Options['requests'],
      },
    },
    {
      name: '4. POST events (500 rules, decision allow)',
      server: 'api',
      options: {
        url: `${internal}/events`,
        method: 'POST',
        headers: proxy,
        body: JSON.stringify({
          event: 'skill.invoked',
          customer_id: t0.customerIds[0],
          payload: BENCH_EVENT_PAYLOAD,
        }),
      },
    },
    {
      name: '5. POST approvals/request (fresh idempotency keys)',
      server: 'api',
      options: {
        url: `${internal}/approvals/request`,
        requests: [
          {
            method: 'POST',
            headers: proxy,
            setupRequest: (req: Record<string, unknown>) => ({
              ...req,
              body: JSON.stringify({
                customer_id: t0.customerIds[1],
                skill_slug: 'payments',
                action: 'pay_contractor',
                serialized_intent: { amount: 250, contractor_id: 'C-1' },
                idempotency_key: randomUUID(),
              }),
            }),
          },
        ] as unknown as Options['requests'],
      },
    },
    {
      name: '6a. GET /v1/workflows, 1,000 workflows in the tenant',
      server: 'api',
      options: {
        url: `${urls.api}/v1/workflows`,
        headers: { authorization: token(small) },
      },
    },
    {
      name: '6b. GET /v1/workflows, 100,000 workflows in the tenant',
      server: 'api',
      options: {
        url: `${urls.api}/v1/workflows`,
        headers: { authorization: token(large) },
      },
    },
  ];
}

/** The pipeline's cost, when the bare app runs beside the API (only `npm run bench` starts it). */
function pipeline(urls: { api: string; bare?: string }): ScenarioSpec[] {
  if (!urls.bare) return [];
  return [
    {
      name: 'p0. bare NestJS + Fastify, GET /healthz',
      server: 'bare',
      options: { url: `${urls.bare}/healthz` },
    },
    {
      name: 'p1. GET /healthz',
      server: 'api',
      options: { url: `${urls.api}/healthz` },
    },
    {
      name: 'p2. GET /v1/rules/trigger-types (static, no credential)',
      server: 'api',
      options: { url: `${urls.api}/v1/rules/trigger-types` },
    },
  ];
}
