import { ConfigError, loadConfig } from '../../src/config/app-config';
import { TenantDb } from '../../src/database/tenant-db';
import { EventLogService, NewEvent } from '../../src/event-log/event-log.service';
import { EventRetention } from '../../src/event-log/event-retention';
import { EventSequencer } from '../../src/event-log/event-sequencer';
import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

const DAY_MS = 86_400_000;

describe('event retention', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  /** Records events in one committed transaction of the tenant; numbers them unless told not to. */
  const commit = async (tenantId: string, events: NewEvent[], sequence = true) => {
    const log = t.app.get(EventLogService);
    const ids = await t.app.get(TenantDb).run(tenantId, () => log.record(tenantId, ...events));
    if (sequence) await t.app.get(EventSequencer).sweep();
    return ids;
  };
  const many = (n: number, type = 'test.e'): NewEvent[] =>
    Array.from({ length: n }, (_, i) => ({ type, data: { i } }));
  /** Moves events' occurrence `days` into the past. */
  const age = (ids: string[], days: number) =>
    t.raw.query(
      `UPDATE events SET occurred_at = now() - make_interval(days => $2) WHERE id = ANY($1)`,
      [ids, days],
    );
  const stored = async (tenantId: string) => {
    const { rows } = await t.raw.query<{ sequence: string | null }>(
      `SELECT sequence FROM events WHERE tenant_id = $1 ORDER BY sequence NULLS LAST`,
      [tenantId],
    );
    return rows.map((r) => (r.sequence === null ? null : Number(r.sequence)));
  };
  const purgedThrough = async (tenantId: string) => {
    const { rows } = await t.raw.query(
      `SELECT purged_through FROM event_sequences WHERE tenant_id = $1`,
      [tenantId],
    );
    return Number(rows[0]?.purged_through ?? 0);
  };
  const purge = () => t.app.get(EventRetention).runOnce();

  it('removes the events older than the retention, oldest first, and records how far', async () => {
    const s = await TenantSession.create(t, 'Aged');
    const ids = await commit(s.tenantId, many(6));
    await age(ids.slice(0, 3), 31); // sequences 1-3
    await age(ids.slice(3, 4), 29); // 4: still within the retention
    await age(ids.slice(4, 5), 45); // 5: old, but after a retained event
    await purge();
    // The feed loses a prefix only: 5 waits for 4 to age, so everything after 3 is still there.
    expect(await stored(s.tenantId)).toEqual([4, 5, 6]);
    expect(await purgedThrough(s.tenantId)).toBe(3);

    await age(ids.slice(3, 4), 31);
    await purge();
    expect(await stored(s.tenantId)).toEqual([6]);
    expect(await purgedThrough(s.tenantId)).toBe(5);
  });

  it('drains a backlog in batches, and leaves other tenants alone', async () => {
    const s = await TenantSession.create(t, 'Backlog');
    const other = await TenantSession.create(t, 'Bystander');
    const ids = await commit(s.tenantId, many(2_345));
    await age(ids, 40);
    const recent = await commit(other.tenantId, many(3));
    await age(recent, 10);
    await purge();
    expect(await stored(s.tenantId)).toEqual([]);
    expect(await purgedThrough(s.tenantId)).toBe(2_345);
    expect(await stored(other.tenantId)).toEqual([1, 2, 3]);
    expect(await purgedThrough(other.tenantId)).toBe(0);
    // Numbering goes on after the purged positions.
    await commit(s.tenantId, many(1));
    expect(await stored(s.tenantId)).toEqual([2_346]);
  });

  it('answers 410 to a cursor before what was removed, and 200 from there on', async () => {
    const s = await TenantSession.create(t, 'Cursor');
    const instance = await s.instance();
    const runtime = (await s.proxyKey(instance)).headers;
    const ids = await commit(s.tenantId, many(5));
    await age(ids.slice(0, 2), 31);
    await purge();
    expect(await purgedThrough(s.tenantId)).toBe(2);

    const feed = (query: Record<string, number>) =>
      t.http().get(`/internal/v1/instances/${instance}/events`).set(runtime).query(query);
    const dashboard = (query: Record<string, number>) =>
      t.http().get('/v1/events').set(s.admin).query(query);
    for (const read of [feed, dashboard]) {
      for (const after of [0, 1]) {
        const gone = await read({ after });
        expect(gone.status).toBe(410);
        expect(gone.body).toEqual({ detail: expect.stringMatching(/retention/) });
      }
      const from = await read({ after: 2 });
      expect(from.status).toBe(200);
      expect(from.body.events.map((e: { sequence: number }) => e.sequence)).toEqual([3, 4, 5]);
      // No cursor: from the oldest retained.
      const fresh = await read({ limit: 1 });
      expect(fresh.body).toMatchObject({ next_after: 3, has_more: true });
    }
  });

  it('answers an empty page at purged_through once everything has gone', async () => {
    const s = await TenantSession.create(t, 'Emptied');
    await age(await commit(s.tenantId, many(2)), 31);
    await purge();
    const res = await t.http().get('/v1/events').set(s.admin);
    expect(res.body).toEqual({ events: [], next_after: 2, has_more: false });
    expect((await t.http().get('/v1/events?after=2').set(s.admin)).status).toBe(200);
  });

  it('reads its retention from EVENT_RETENTION_DAYS: 30 days unless set, 1 to 3650', () => {
    const env = {
      DATABASE_URL: 'postgres://u:p@localhost:5432/db',
      JWT_SECRET: 'x'.repeat(32),
      ENCRYPTION_KEY: 'ab'.repeat(32),
    };
    expect(loadConfig(env).eventRetentionDays).toBe(30);
    expect(loadConfig({ ...env, EVENT_RETENTION_DAYS: '3650' }).eventRetentionDays).toBe(3650);
    for (const bad of ['0', '3651', '-1', '7d']) {
      const attempt = () => loadConfig({ ...env, EVENT_RETENTION_DAYS: bad });
      expect(attempt).toThrow(ConfigError);
      expect(attempt).toThrow(/^EVENT_RETENTION_DAYS must be an integer between 1 and 3650/);
    }
  });

  it('honours a shorter retention', async () => {
    const short = await startTestApp({ EVENT_RETENTION_DAYS: '1' });
    try {
      const s = await TenantSession.create(short, 'Short');
      const log = short.app.get(EventLogService);
      const ids = await short.app
        .get(TenantDb)
        .run(s.tenantId, () => log.record(s.tenantId, ...many(2)));
      await short.app.get(EventSequencer).sweep();
      await short.raw.query(`UPDATE events SET occurred_at = $2 WHERE id = $1`, [
        ids[0],
        new Date(Date.now() - 2 * DAY_MS),
      ]);
      await short.app.get(EventRetention).runOnce();
      const { rows } = await short.raw.query(`SELECT id FROM events WHERE tenant_id = $1`, [
        s.tenantId,
      ]);
      expect(rows.map((r) => r.id)).toEqual([ids[1]]);
    } finally {
      await short.close();
    }
  });

  // Last: it stops this app's sequencer, which does not start again.
  it('never removes an event that has no position yet', async () => {
    const s = await TenantSession.create(t, 'Waiting');
    const numbered = await commit(s.tenantId, many(2));
    // With the sequencer stopped, committed events stay without a position for as long as needed.
    await t.app.get(EventSequencer).onApplicationShutdown();
    const waiting = await commit(s.tenantId, many(2), false);
    await age([...numbered, ...waiting], 90);
    await purge();
    expect(await stored(s.tenantId)).toEqual([null, null]);
    expect(await purgedThrough(s.tenantId)).toBe(2);
  });
});
