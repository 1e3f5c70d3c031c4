import { TenantDb } from '../../src/database/tenant-db';
import { EventLogService, NewEvent } from '../../src/event-log/event-log.service';
import { EventSequencer } from '../../src/event-log/event-sequencer';
import { FeedSignals, MAX_WAITERS_PER_TENANT } from '../../src/event-log/feed-signals';
import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

interface Reader {
  session: TenantSession;
  instance: string;
  runtime: Record<string, string>;
}

async function reader(t: TestApp, name: string): Promise<Reader> {
  const session = await TenantSession.create(t, name);
  const instance = await session.instance();
  return { session, instance, runtime: (await session.proxyKey(instance)).headers };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the event feed', () => {
  let t: TestApp;
  let log: EventLogService;
  let db: TenantDb;

  beforeAll(async () => {
    t = await startTestApp();
    log = t.app.get(EventLogService);
    db = t.app.get(TenantDb);
  });
  afterAll(() => t.close());

  /** Records `events` in one transaction of the tenant, committed after `holdMs`. */
  const commit = (tenantId: string, events: NewEvent[], holdMs = 0) =>
    db.run(tenantId, async () => {
      const ids = await log.record(tenantId, ...events);
      if (holdMs > 0) await sleep(holdMs);
      return ids;
    });

  const page = (r: Reader, query: Record<string, string | number> = {}) =>
    t.http().get(`/internal/v1/instances/${r.instance}/events`).set(r.runtime).query(query);

  it('pages every event exactly once while eight writers commit out of order', async () => {
    const r = await reader(t, 'Writers');
    const written: string[] = [];
    // Writers hold their transactions for different times, so commits come out of insert order.
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < 10; i++) {
        const ids = await commit(
          r.session.tenantId,
          [
            { type: 'test.one', instanceId: r.instance, data: { w, i } },
            { type: 'test.two', instanceId: null, data: { w, i } },
          ],
          ((w * 7 + i * 13) % 11) * 4,
        );
        written.push(...ids);
      }
    });
    const seen: string[] = [];
    const sequences: number[] = [];
    let after = 0;
    let writing = true;
    const pager = (async () => {
      for (;;) {
        const res = await page(r, { after, limit: 7 });
        expect(res.status).toBe(200);
        for (const e of res.body.events) {
          seen.push(e.id);
          sequences.push(e.sequence);
        }
        after = res.body.next_after;
        if (!writing && !res.body.has_more && seen.length >= written.length) return;
        if (!res.body.has_more) await sleep(5);
      }
    })();
    await Promise.all(writers);
    writing = false;
    await pager;
    expect(written).toHaveLength(160);
    expect(new Set(seen).size).toBe(seen.length); // nothing repeated
    expect([...seen].sort()).toEqual([...written].sort()); // nothing skipped
    expect(sequences).toEqual(Array.from({ length: 160 }, (_, i) => i + 1)); // gap-free, in order
  });

  it('shows an event committed late after the ones committed before it, never skipping it', async () => {
    const r = await reader(t, 'Late');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const early = new Promise<void>((resolve) => (inserted = resolve));
    // The first writer inserts first and commits last.
    const slow = db.run(r.session.tenantId, async () => {
      await log.record(r.session.tenantId, { type: 'test.first_inserted', data: {} });
      inserted();
      await held;
    });
    await early;
    await commit(r.session.tenantId, [{ type: 'test.first_committed', data: {} }]);
    await t.app.get(EventSequencer).sweep();
    const before = await page(r);
    expect(before.body.events.map((e: { type: string }) => e.type)).toEqual([
      'test.first_committed',
    ]);
    release();
    await slow;
    await t.app.get(EventSequencer).sweep();
    const after = await page(r, { after: before.body.next_after });
    expect(after.body.events.map((e: { type: string }) => e.type)).toEqual(['test.first_inserted']);
    expect(after.body.events[0].sequence).toBe(before.body.events[0].sequence + 1);
  });

  it('answers a long poll within 200 ms of the commit it waited for', async () => {
    const r = await reader(t, 'Poller');
    const started = Date.now();
    const polled = page(r, { wait: 10 }).then((res) => ({ res, at: Date.now() }));
    await sleep(300);
    await commit(r.session.tenantId, [{ type: 'test.poll', instanceId: r.instance, data: {} }]);
    const committed = Date.now();
    const { res, at } = await polled;
    expect(res.status).toBe(200);
    expect(res.body.events.map((e: { type: string }) => e.type)).toEqual(['test.poll']);
    expect(at - started).toBeGreaterThanOrEqual(300);
    expect(at - committed).toBeLessThan(200);
    // The wait held no connection of the tenant's share.
    expect(db.admission.gate.load(r.session.tenantId)).toEqual({ held: 0, waiting: 0 });
  });

  it('ends a long poll with an empty page when nothing comes', async () => {
    const r = await reader(t, 'Quiet');
    const started = Date.now();
    const res = await page(r, { wait: 1, after: 0 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ events: [], next_after: 0, has_more: false });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('answers at once, without reading again and again, a poll past the waiting polls a tenant may hold', async () => {
    const r = await reader(t, 'Crowded');
    const signals = t.app.get(FeedSignals);
    const held = Array.from({ length: MAX_WAITERS_PER_TENANT }, () =>
      signals.subscribe(r.session.tenantId, 30_000),
    );
    try {
      const started = Date.now();
      const res = await page(r, { wait: 3, after: 0 });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ events: [], next_after: 0, has_more: false });
      // Before, it read the feed in a loop until its wait ended: 3 s of a core and a connection.
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      for (const waiter of held) waiter?.cancel();
    }
  });

  it("shows an instance its own events and the tenant's, never another instance's or tenant's", async () => {
    const r = await reader(t, 'Mine');
    const sibling = await r.session.instance('Sibling');
    const other = await reader(t, 'Theirs');
    await commit(r.session.tenantId, [
      { type: 'test.mine', instanceId: r.instance, data: {} },
      { type: 'test.tenant', instanceId: null, data: {} },
      { type: 'test.sibling', instanceId: sibling, data: {} },
    ]);
    await commit(other.session.tenantId, [
      { type: 'test.theirs', instanceId: other.instance, data: {} },
      { type: 'test.theirs', instanceId: null, data: {} },
    ]);
    await t.app.get(EventSequencer).sweep();
    const mine = await page(r);
    expect(mine.body.events.map((e: { type: string }) => e.type)).toEqual([
      'test.mine',
      'test.tenant',
    ]);
    expect(mine.body.events[0]).toMatchObject({
      tenant_id: r.session.tenantId,
      instance_id: r.instance,
      customer_id: null,
      caused_by: null,
      data: {},
    });
    // Positions are the tenant's own: the other tenant's events leave no gap in them.
    expect(mine.body.events.map((e: { sequence: number }) => e.sequence)).toEqual([1, 2]);
    const theirs = await page(other);
    expect(theirs.body.events.map((e: { sequence: number }) => e.sequence)).toEqual([1, 2]);
    // Another tenant's key cannot read this instance's feed.
    const foreign = await t
      .http()
      .get(`/internal/v1/instances/${r.instance}/events`)
      .set(other.runtime);
    expect(foreign.status).toBe(403);
  });

  it('filters by type, keeps no event of a rolled-back change, and pages with has_more', async () => {
    const r = await reader(t, 'Filter');
    await expect(
      db.run(r.session.tenantId, async () => {
        await log.record(r.session.tenantId, { type: 'test.lost', data: {} });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await commit(r.session.tenantId, [
      { type: 'test.a', data: { n: 1 } },
      { type: 'test.b', data: { n: 2 } },
      { type: 'test.a', data: { n: 3 } },
    ]);
    await t.app.get(EventSequencer).sweep();
    const onlyA = await page(r, { types: 'test.a' });
    expect(onlyA.body.events.map((e: { data: { n: number } }) => e.data.n)).toEqual([1, 3]);
    const first = await page(r, { limit: 2 });
    expect(first.body).toMatchObject({ next_after: 2, has_more: true });
    const rest = await page(r, { after: first.body.next_after });
    expect(rest.body).toMatchObject({ next_after: 3, has_more: false });
    const { rows } = await t.raw.query(`SELECT type FROM events WHERE tenant_id = $1`, [
      r.session.tenantId,
    ]);
    expect(rows.map((x) => x.type)).not.toContain('test.lost');
  });

  it('ends a page at its byte budget, always with at least one event, and says more follow', async () => {
    const r = await reader(t, 'Heavy');
    const big = { blob: 'x'.repeat(2.5 * 1024 * 1024) };
    await commit(r.session.tenantId, [
      { type: 'test.big', data: big },
      { type: 'test.big', data: big },
      { type: 'test.small', data: {} },
    ]);
    await t.app.get(EventSequencer).sweep();
    const first = await page(r, { limit: 10 });
    expect(first.body.events.map((e: { sequence: number }) => e.sequence)).toEqual([1, 2]);
    expect(first.body).toMatchObject({ next_after: 2, has_more: true });
    const rest = await page(r, { after: 2, limit: 10 });
    expect(rest.body.events.map((e: { type: string }) => e.type)).toEqual(['test.small']);
    expect(rest.body.has_more).toBe(false);
  });

  it("keeps each event's size from its write, and pages by it rather than measuring the data", async () => {
    const r = await reader(t, 'Measured');
    await commit(r.session.tenantId, [
      { type: 'test.a', data: { note: 'é', list: [1, { x: null }] } },
      { type: 'test.b', data: {} },
      { type: 'test.c', data: { n: 1 } },
    ]);
    await t.app.get(EventSequencer).sweep();
    const sizes = await t.raw.query(
      `SELECT data_bytes, octet_length(data::text) AS measured FROM events
        WHERE tenant_id = $1 ORDER BY sequence`,
      [r.session.tenantId],
    );
    expect(sizes.rows.map((x) => x.data_bytes)).toEqual(sizes.rows.map((x) => x.measured));
    // A stored size larger than the budget cuts the page after that event, small data or not.
    await t.raw.query(
      `UPDATE events SET data_bytes = 5 * 1024 * 1024 WHERE tenant_id = $1 AND sequence = 1`,
      [r.session.tenantId],
    );
    const cut = await page(r, { limit: 10 });
    expect(cut.body.events.map((e: { type: string }) => e.type)).toEqual(['test.a']);
    expect(cut.body).toMatchObject({ next_after: 1, has_more: true });
    // Rows without a size (written before sizes were kept) are measured as they are read.
    await t.raw.query(`UPDATE events SET data_bytes = NULL WHERE tenant_id = $1`, [
      r.session.tenantId,
    ]);
    const whole = await page(r, { limit: 10 });
    expect(whole.body.events.map((e: { type: string }) => e.type)).toEqual([
      'test.a',
      'test.b',
      'test.c',
    ]);
  });

  it('answers 410 for a cursor past retention', async () => {
    const r = await reader(t, 'Retained');
    await commit(r.session.tenantId, [{ type: 'test.x', data: {} }]);
    await t.app.get(EventSequencer).sweep();
    // As if five events had been numbered and retention had removed them all.
    await t.raw.query(
      `UPDATE event_sequences SET purged_through = 5, last = 5 WHERE tenant_id = $1`,
      [r.session.tenantId],
    );
    const res = await page(r, { after: 3 });
    expect(res.status).toBe(410);
    expect(res.body).toEqual({ detail: expect.stringMatching(/retention/) });
    expect((await page(r, { after: 5 })).status).toBe(200);
  });

  it("refuses a cursor past the feed's end, which it never gave out: a 422, not an empty page", async () => {
    const r = await reader(t, 'Ahead');
    await commit(r.session.tenantId, [
      { type: 'test.x', data: {} },
      { type: 'test.y', data: {} },
    ]);
    await t.app.get(EventSequencer).sweep();
    expect((await page(r, { after: 2 })).body).toEqual({
      events: [],
      next_after: 2,
      has_more: false,
    });
    for (const after of [3, 999_999, Number.MAX_SAFE_INTEGER]) {
      const res = await page(r, { after });
      expect(res.status).toBe(422);
      expect(res.body.detail).toEqual([
        expect.objectContaining({
          loc: ['query', 'after'],
          msg: 'after is past the end of the feed (its last sequence is 2)',
        }),
      ]);
    }
    // Beyond what JSON numbers carry exactly: not a cursor at all.
    const huge = await page(r, { after: '9007199254740993' });
    expect(huge.status).toBe(422);
    expect(huge.body.detail[0].loc).toEqual(['query', 'after']);
  });

  it.each([
    [{ limit: 0 }, 'limit'],
    [{ limit: 501 }, 'limit'],
    [{ wait: 31 }, 'wait'],
    [{ after: -1 }, 'after'],
    [{ after: 'x' }, 'after'],
    [{ types: 'a,,b' }, 'types'],
    [{ types: 'x'.repeat(101) }, 'types'],
  ])('refuses %j with a 422 at its field', async (query, field) => {
    const r = await reader(t, 'Bad');
    const res = await page(r, query);
    expect(res.status).toBe(422);
    expect(res.body.detail[0].loc).toEqual(['query', field]);
  });
});
