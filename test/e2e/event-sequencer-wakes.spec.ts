import { LighterEventWrites1732408800000 } from '../../migrations/1732408800000-lighter-event-writes';
import { TenantDb } from '../../src/database/tenant-db';
import { EventLogRepository } from '../../src/event-log/event-log.repository';
import { EventLogService } from '../../src/event-log/event-log.service';
import { EventSequencer } from '../../src/event-log/event-sequencer';
import { TestApp, startTestApp } from '../helpers/app';
import { inOwnerTransaction } from '../helpers/owner-transaction';
import { TenantSession } from '../helpers/factories';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const BURST = 8;

/**
 * The sequencer numbers a tenant's commits in bursts: after a pass woken by a commit, the
 * tenant's next such pass waits a moment, and what committed meanwhile is numbered then. Nothing
 * committed in that moment may be left for the sweep, seconds later.
 */
describe('the event sequencer woken by commits', () => {
  let t: TestApp;
  let log: EventLogService;
  let db: TenantDb;

  beforeAll(async () => {
    t = await startTestApp();
    log = t.app.get(EventLogService);
    db = t.app.get(TenantDb);
  });
  afterAll(() => t.close());

  it('numbers commits made one after another within a second of the last, burst after burst', async () => {
    const session = await TenantSession.create(t, 'Bursts');
    const instance = await session.instance();
    const { headers } = await session.proxyKey(instance);
    const commit = (n: number) =>
      db.run(session.tenantId, () =>
        log.record(session.tenantId, { type: 'test.burst', instanceId: instance, data: { n } }),
      );
    let after = 0;
    let n = 0;
    // Three bursts: the sweep (every 5 s) could number one burst's tail in time by chance, not
    // all three.
    for (let burst = 0; burst < 3; burst++) {
      // The first wakes a pass at once; the rest land during it or the pause after it.
      let last = '';
      for (let i = 0; i < BURST; i++) [last] = await commit(n++);
      const committed = Date.now();
      let seen = false;
      while (!seen) {
        const res = await t
          .http()
          .get(`/internal/v1/instances/${instance}/events`)
          .set(headers)
          .query({ after, wait: 10 });
        expect(res.status).toBe(200);
        seen = res.body.events.some((e: { id: string }) => e.id === last);
        after = res.body.next_after;
      }
      expect(Date.now() - committed).toBeLessThan(1000);
      await sleep(300); // past the pause: the next burst's first commit wakes a pass at once
    }
    const res = await t
      .http()
      .get(`/internal/v1/instances/${instance}/events`)
      .set(headers)
      .query({ after: 0 });
    expect(res.body.events.map((e: { data: { n: number } }) => e.data.n)).toEqual(
      Array.from({ length: 3 * BURST }, (_, i) => i),
    );
  });

  it('leaves alone the events of a tenant removed by hand, and still numbers the others', async () => {
    const kept = await TenantSession.create(t, 'Kept');
    const removed = await TenantSession.create(t, 'Removed');
    // Each commits an event while its counter is held, and one tenant is removed meanwhile.
    const holder = await t.raw.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(
        `INSERT INTO event_sequences (tenant_id) VALUES ($1), ($2) ON CONFLICT DO NOTHING`,
        [kept.tenantId, removed.tenantId],
      );
      await holder.query('SELECT last FROM event_sequences WHERE tenant_id = ANY($1) FOR UPDATE', [
        [kept.tenantId, removed.tenantId],
      ]);
      for (const s of [kept, removed]) {
        await db.run(s.tenantId, () => log.record(s.tenantId, { type: 'test.left', data: {} }));
      }
      await holder.query('DELETE FROM tenants WHERE id = $1', [removed.tenantId]);
      await holder.query('COMMIT');
    } finally {
      holder.release();
    }
    await t.app.get(EventSequencer).sweep();
    expect(await t.app.get(EventLogRepository).tenantsWaiting()).not.toContain(removed.tenantId);
    const { rows } = await t.raw.query<{ tenant_id: string; numbered: boolean }>(
      `SELECT tenant_id, sequence IS NOT NULL AS numbered FROM events
        WHERE tenant_id = ANY($1) AND type = 'test.left' ORDER BY tenant_id = $2 DESC`,
      [[kept.tenantId, removed.tenantId], kept.tenantId],
    );
    expect(rows).toEqual([
      { tenant_id: kept.tenantId, numbered: true },
      { tenant_id: removed.tenantId, numbered: false },
    ]);

    // Undoing the migration that dropped the events' key to tenants brings the key back: the
    // removed tenant's events must go first. Rolled back after.
    await inOwnerTransaction(t, 'rollback', async (owner, runner) => {
      await new LighterEventWrites1732408800000().down(runner);
      await owner.query('ALTER TABLE events NO FORCE ROW LEVEL SECURITY'); // to read them all
      const left = await owner.query(
        `SELECT tenant_id FROM events WHERE tenant_id = ANY($1) AND type = 'test.left'`,
        [[kept.tenantId, removed.tenantId]],
      );
      expect(left.rows).toEqual([{ tenant_id: kept.tenantId }]);
    });
  });
});
