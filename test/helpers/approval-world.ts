import { IncomingHttpHeaders, Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { TestApp, startTestApp } from './app';
import { TenantSession } from './factories';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A replay receiver on loopback: records requests, answers with the queued statuses (then 200). */
export function receiver(): Promise<{
  server: Server;
  url: string;
  received: Received[];
  statuses: number[];
}> {
  const received: Received[] = [];
  const statuses: number[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        server,
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/replay`,
        received,
        statuses,
      }),
    ),
  );
}

export const SECRET = 'replay-secret-for-tests';

/**
 * Tenant A with two customers, a person and an instance whose proxy key calls the approval
 * routes; approved intents are replayed to `hook`, retried fast.
 */
export interface ApprovalWorld {
  t: TestApp;
  a: TenantSession;
  customer: string;
  otherCustomer: string;
  person: string;
  instance: string;
  runtime: Record<string, string>;
  /** The instance's approval routes. */
  base: string;
  hook: Awaited<ReturnType<typeof receiver>>;
}

export async function approvalWorld(): Promise<ApprovalWorld> {
  const hook = await receiver();
  const t = await startTestApp({
    REPLAY_WEBHOOK_URL: hook.url,
    REPLAY_WEBHOOK_SECRET: SECRET,
    OUTBOX_MAX_ATTEMPTS: '3',
    OUTBOX_BACKOFF_MS: '1',
    OUTBOX_LEASE_MS: '50',
  });
  const a = await TenantSession.create(t, 'A');
  const customer = await a.customer();
  const otherCustomer = await a.customer();
  const person = await a.person(customer);
  const instance = await a.instance();
  const runtime = (await a.proxyKey(instance)).headers;
  const base = `/internal/v1/instances/${instance}/approvals`;
  return { t, a, customer, otherCustomer, person, instance, runtime, base, hook };
}

export async function closeApprovalWorld(world: ApprovalWorld): Promise<void> {
  await world.t.close();
  world.hook.server.close();
}

export const INTENT = { contractor_id: 'C-42', amount: 750, currency: 'GBP' };

/** The calls the approval tests share, on the world `world()` returns once it is built. */
export function approvalCalls(world: () => ApprovalWorld) {
  const body = (extra: object = {}) => ({
    customer_id: world().customer,
    skill_slug: 'payments',
    action: 'pay_contractor',
    serialized_intent: INTENT,
    ...extra,
  });
  const request = (extra: object = {}, headers?: Record<string, string>) => {
    const { t, base, runtime } = world();
    return t
      .http()
      .post(`${base}/request`)
      .set(headers ?? runtime)
      .send(body(extra));
  };
  return {
    body,
    request,
    pending: async (extra: object = {}) => (await request(extra).expect(201)).body,
    resolve: (ref: string, extra: object = {}, headers?: Record<string, string>) => {
      const { t, base, runtime } = world();
      return t
        .http()
        .post(`${base}/resolve`)
        .set(headers ?? runtime)
        .send({
          approval_ref: ref,
          action: 'approve',
          pin_verified: true,
          resolver_role: 'customer',
          ...extra,
        });
    },
    /** The stored approval, read past RLS. */
    row: async (ref: string) =>
      (await world().t.raw.query('SELECT * FROM approvals WHERE approval_ref = $1', [ref])).rows[0],
    /** Its outbox entries, read past RLS. */
    outbox: async (approvalId: string) =>
      (await world().t.raw.query('SELECT * FROM outbox WHERE approval_id = $1', [approvalId])).rows,
  };
}
