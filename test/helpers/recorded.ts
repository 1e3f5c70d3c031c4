import { EventSequencer } from '../../src/event-log/event-sequencer';
import { TestApp } from './app';
import { TenantSession } from './factories';

/** An event as the feed shows it, with its depth (which the feed does not show) read beside it. */
export interface FeedEvent {
  id: string;
  type: string;
  sequence: number;
  tenant_id: string;
  instance_id: string | null;
  customer_id: string | null;
  caused_by: string | null;
  data: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * What an instance's feed shows, read through the feed route as the runtime reads it: the
 * events recorded after a cursor taken at the tenant's last event (the same for every instance).
 */
export function feedOf(
  t: TestApp,
  tenantId: string,
  instance: string,
  runtime: Record<string, string>,
) {
  const read = async (after: number): Promise<FeedEvent[]> => {
    await t.app.get(EventSequencer).sweep();
    const events: FeedEvent[] = [];
    for (;;) {
      const res = await t
        .http()
        .get(`/internal/v1/instances/${instance}/events`)
        .set(runtime)
        .query({ after, limit: 500 });
      if (res.status !== 200) throw new Error(`feed: ${res.status} ${JSON.stringify(res.body)}`);
      events.push(...res.body.events);
      after = res.body.next_after;
      if (!res.body.has_more) return events;
    }
  };
  return {
    /** The tenant's last event's sequence, once everything committed is numbered. */
    end: async (): Promise<number> => {
      await t.app.get(EventSequencer).sweep();
      const { rows } = await t.raw.query<{ last: string }>(
        'SELECT coalesce(max(sequence), 0) AS last FROM events WHERE tenant_id = $1',
        [tenantId],
      );
      return Number(rows[0].last);
    },
    /** The events this instance sees that were recorded after `after`, oldest first. */
    since: read,
  };
}

/** Events' depths, read past RLS: rule-raised events are one deeper than their cause. */
export async function depths(t: TestApp, ids: string[]): Promise<Record<string, number>> {
  const { rows } = await t.raw.query<{ id: string; depth: number }>(
    'SELECT id, depth FROM events WHERE id = ANY($1)',
    [ids],
  );
  return Object.fromEntries(rows.map((r) => [r.id, r.depth]));
}

/** Every event of a tenant, sequenced or not, read past RLS: for asserting that none exist. */
export async function allEvents(t: TestApp, tenantId: string): Promise<{ type: string }[]> {
  const { rows } = await t.raw.query(
    'SELECT type FROM events WHERE tenant_id = $1 ORDER BY position',
    [tenantId],
  );
  return rows;
}

export type Feed = ReturnType<typeof feedOf>;

/**
 * A tenant with a customer, a person and two instances, each with its proxy key and its feed:
 * what one instance does is looked for in the other's feed too.
 */
export async function recordingWorld(t: TestApp) {
  const a = await TenantSession.create(t, 'A');
  const customer = await a.customer();
  const person = await a.person(customer);
  const instance = await a.instance();
  const runtime = (await a.proxyKey(instance)).headers;
  const sibling = await a.instance('Sibling');
  const siblingRuntime = (await a.proxyKey(sibling)).headers;
  return {
    a,
    customer,
    person,
    instance,
    runtime,
    feed: feedOf(t, a.tenantId, instance, runtime),
    sibling,
    siblingRuntime,
    siblingFeed: feedOf(t, a.tenantId, sibling, siblingRuntime),
  };
}
