import { PoolClient } from 'pg';
import { WebhookBacklogIndexes1732409200000 } from '../../migrations/1732409200000-webhook-backlog-indexes';
import { CLAIM, TENANTS_DUE } from '../../src/webhooks/webhook-deliveries.repository';
import { PER_ENDPOINT_IN_FLIGHT } from '../../src/webhooks/webhook-dispatcher';
import { ENDPOINT_LIMITS } from '../../src/webhooks/dto/webhook-endpoints.dto';
import { REPLAY_LIMIT, REPLAY_MAX_PENDING } from '../../src/webhooks/webhook-endpoints.service';
import { TestApp, asRuntimeRole, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';
import { inOwnerTransaction } from '../helpers/owner-transaction';
import { QUIET_WEBHOOK_ENV, REFUSING_WEBHOOK_URL } from '../helpers/webhooks';

/**
 * What a tenant can do to the webhook machinery with its own credentials: a backlog queued by
 * replays must not make every claim and every look across tenants read it whole.
 */
describe('webhook limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(QUIET_WEBHOOK_ENV);
  });
  afterAll(() => t.close());

  /**
   * `count` events of the tenant, numbered after whatever it has (so the sequencer and the
   * fan-out go on from their end, never over them); `occurredAt` is SQL of the i-th's time.
   */
  const seedEvents = async (
    tenantId: string,
    count: number,
    occurredAt = `now() - interval '1 hour' + i * interval '1 ms'`,
  ): Promise<void> => {
    const { rows } = await t.raw.query<{ last: string }>(
      `SELECT coalesce(max(sequence), 0) AS last FROM events WHERE tenant_id = $1`,
      [tenantId],
    );
    const last = Number(rows[0].last);
    await t.raw.query(
      `INSERT INTO events (tenant_id, type, data, sequence, occurred_at)
       SELECT $1, 'message.received', '{}', $2::bigint + i, ${occurredAt}
         FROM generate_series(1, $3::int) i`,
      [tenantId, last, count],
    );
    await t.raw.query(
      `INSERT INTO event_sequences (tenant_id, last) VALUES ($1, $2)
       ON CONFLICT (tenant_id) DO UPDATE SET last = excluded.last`,
      [tenantId, last + count],
    );
    await t.raw.query(
      `INSERT INTO webhook_fanout_cursors (tenant_id, fanned_out_through) VALUES ($1, $2)
       ON CONFLICT (tenant_id) DO UPDATE SET fanned_out_through = excluded.fanned_out_through`,
      [tenantId, last + count],
    );
  };
  const seedEndpoints = async (tenantId: string, count: number, status = 'enabled') =>
    (
      await t.raw.query<{ id: string }>(
        `INSERT INTO webhook_endpoints (tenant_id, url, event_types, sealed_secret, status)
         SELECT $1, $2, '{*}', '\\x00', $4 FROM generate_series(1, $3::int)
         RETURNING id`,
        [tenantId, REFUSING_WEBHOOK_URL, count, status],
      )
    ).rows.map((r) => r.id);
  /** A delivery of every event of the tenant to each of its endpoints, due as a replay's are. */
  const seedBacklog = (tenantId: string, due = 'now()') =>
    t.raw.query(
      `INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, event_type, next_attempt_at)
       SELECT e.tenant_id, w.id, e.id, e.type, ${due}
         FROM events e JOIN webhook_endpoints w ON w.tenant_id = e.tenant_id
        WHERE e.tenant_id = $1`,
      [tenantId],
    );
  /** Leases `perEndpoint` of each endpoint's deliveries, as attempts under way hold them. */
  const lease = (tenantId: string, perEndpoint: number) =>
    t.raw.query(
      `UPDATE webhook_deliveries d SET leased_until = now() + interval '1 hour'
         FROM (SELECT id, row_number() OVER (PARTITION BY endpoint_id ORDER BY id) AS n
                 FROM webhook_deliveries WHERE tenant_id = $1) x
        WHERE d.tenant_id = $1 AND d.id = x.id AND x.n <= $2`,
      [tenantId, perEndpoint],
    );

  interface PlanNode {
    'Node Type': string;
    'Relation Name'?: string;
    'Actual Rows': number;
    'Actual Loops': number;
    'Rows Removed by Filter'?: number;
    'Rows Removed by Index Recheck'?: number;
    Plans?: PlanNode[];
  }
  /** Rows of webhook_deliveries the statement read (returned or filtered out), and its scans. */
  const explained = async (client: PoolClient, sql: string, params: unknown[] = []) => {
    const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
    const scans: string[] = [];
    let read = 0;
    const walk = (node: PlanNode) => {
      if (node['Relation Name'] === 'webhook_deliveries') {
        scans.push(node['Node Type']);
        read +=
          (node['Actual Rows'] +
            (node['Rows Removed by Filter'] ?? 0) +
            (node['Rows Removed by Index Recheck'] ?? 0)) *
          node['Actual Loops'];
      }
      node.Plans?.forEach(walk);
    };
    walk((rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0].Plan);
    return { read, scans };
  };

  describe('a backlog of 10,000 deliveries', () => {
    let b: TenantSession;
    let later: TenantSession;
    let underWay: TenantSession;
    beforeAll(async () => {
      b = await TenantSession.create(t, 'B');
      await seedEndpoints(b.tenantId, 4);
      await seedEvents(b.tenantId, 2_500);
      await seedBacklog(b.tenantId);
      await lease(b.tenantId, 3);
      // Tenants with deliveries pending but none to make now: retries due later, and
      // deliveries under way.
      later = await TenantSession.create(t, 'Later');
      await seedEndpoints(later.tenantId, 1);
      await seedEvents(later.tenantId, 5);
      await seedBacklog(later.tenantId, `now() + interval '1 hour'`);
      underWay = await TenantSession.create(t, 'Under way');
      await seedEndpoints(underWay.tenantId, 1);
      await seedEvents(underWay.tenantId, 5);
      await seedBacklog(underWay.tenantId);
      await lease(underWay.tenantId, 5);
      await t.raw.query('VACUUM ANALYZE webhook_deliveries');
    });

    it('claims reading the rows it takes and those under way, not the backlog', async () => {
      const { read, scans, claimed } = await asRuntimeRole(t, b.tenantId, async (c) => {
        // As the dispatcher claims: eight an endpoint, 25 of a tenant in a process.
        const plan = await explained(c, CLAIM, [b.tenantId, PER_ENDPOINT_IN_FLIGHT, 25, 20_000]);
        const { rows } = await c.query(
          `SELECT count(*)::int AS n FROM webhook_deliveries WHERE leased_until > now()`,
        );
        return { ...plan, claimed: rows[0].n - 4 * 3 };
      });
      // Five more for each of the four endpoints, eight under way then.
      expect(claimed).toBe(20);
      expect(scans).not.toContain('Seq Scan');
      // Before, each endpoint's count of its leased rows read all 2,500 of its pending rows,
      // and the pick sorted all of them (they share one next_attempt_at): 20,000 rows.
      expect(read).toBeLessThan(200);
    });

    it('finds the tenants with deliveries due as hydracore_worker, reading a row or two each', async () => {
      const client = await t.owner.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SELECT set_config('role', 'hydracore_worker', true)`);
        const { rows } = await client.query<{ tenant_id: string }>(TENANTS_DUE);
        const ids = rows.map((r) => r.tenant_id);
        expect(ids).toContain(b.tenantId);
        expect(ids).not.toContain(later.tenantId);
        expect(ids).not.toContain(underWay.tenantId);
        const { read, scans } = await explained(client, TENANTS_DUE);
        expect(scans).not.toContain('Seq Scan');
        // Before, DISTINCT read every due row: B's 10,000.
        expect(read).toBeLessThan(100);
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    });

    it('undoes and redoes its indexes (migration 1732409200000)', async () => {
      await inOwnerTransaction(t, 'rollback', async (owner, runner) => {
        const indexes = async () =>
          (
            await owner.query<{ name: string }>(
              `SELECT indexname AS name FROM pg_indexes
                WHERE tablename = 'webhook_deliveries' AND indexname ~ '_(due|pending|leased|claimable|due_tenants)$'
                ORDER BY 1`,
            )
          ).rows.map((r) => r.name);
        const migration = new WebhookBacklogIndexes1732409200000();
        await migration.down(runner);
        expect(await indexes()).toEqual(['webhook_deliveries_due', 'webhook_deliveries_pending']);
        await migration.up(runner);
        expect(await indexes()).toEqual([
          'webhook_deliveries_claimable',
          'webhook_deliveries_due_tenants',
          'webhook_deliveries_leased',
        ]);
      });
    });
  });

  describe('replays', () => {
    const replay = (session: TenantSession, endpointId: string, body: object) =>
      t.http().post(`/v1/webhook-endpoints/${endpointId}/replay`).set(session.admin).send(body);
    const pending = async (tenantId: string) =>
      (
        await t.raw.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM webhook_deliveries WHERE tenant_id = $1 AND status = 'pending'`,
          [tenantId],
        )
      ).rows[0].n;

    it('are refused once the tenant has 50,000 deliveries pending, however many run at once', async () => {
      const e = await TenantSession.create(t, 'E');
      // Disabled: nothing is attempted, so what is pending stays so.
      const endpoints = await seedEndpoints(e.tenantId, 10, 'disabled');
      await seedEvents(e.tenantId, 5_001);
      const { rows } = await t.raw.query<{ id: string; occurred_at: Date }>(
        `SELECT id, occurred_at FROM events WHERE tenant_id = $1 ORDER BY sequence DESC LIMIT 1`,
        [e.tenantId],
      );
      const targets = endpoints.slice(0, 5);
      // One short of the cap, none of the targets having the last event.
      await t.raw.query(
        `INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, event_type, next_attempt_at)
         SELECT e.tenant_id, w.id, e.id, e.type, now()
           FROM events e JOIN webhook_endpoints w ON w.tenant_id = e.tenant_id
          WHERE e.tenant_id = $1 AND NOT (e.id = $2 AND w.id = ANY ($3::uuid[]))
          ORDER BY e.sequence, w.id LIMIT $4`,
        [e.tenantId, rows[0].id, targets, REPLAY_MAX_PENDING - 1],
      );
      expect(await pending(e.tenantId)).toBe(REPLAY_MAX_PENDING - 1);
      const since = rows[0].occurred_at.toISOString();
      const answers = await Promise.all(targets.map((id) => replay(e, id, { since })));
      // Each saw room for its one event before; now the first takes it and the others wait
      // for it, then count what it queued.
      expect(answers.map((r) => r.status).sort()).toEqual([202, 409, 409, 409, 409]);
      const refused = answers.find((r) => r.status === 409)!;
      expect(refused.body).toEqual({
        detail: 'The tenant has 50,000 webhook deliveries pending or more: replay once fewer are',
      });
      expect(await pending(e.tenantId)).toBe(REPLAY_MAX_PENDING);
    });

    it('page by position, so an event numbered after one of a later time is not skipped', async () => {
      const f = await TenantSession.create(t, 'F');
      const [endpoint] = await seedEndpoints(f.tenantId, 1, 'disabled');
      // The feed's last event took its time before the one numbered just before it (whose
      // transaction committed first): sequence and occurred_at in opposite orders, across the
      // boundary of the first page.
      const count = REPLAY_LIMIT + 2;
      await seedEvents(
        f.tenantId,
        count,
        `now() - interval '1 hour' + (CASE WHEN i = ${count} THEN 1 ELSE i END) * interval '1 ms'`,
      );
      const { rows } = await t.raw.query<{ since: Date }>(
        `SELECT min(occurred_at) AS since FROM events WHERE tenant_id = $1`,
        [f.tenantId],
      );
      const since = rows[0].since.toISOString();
      const pages = [];
      let after: number | undefined;
      do {
        const res = await replay(f, endpoint, after === undefined ? { since } : { since, after });
        expect(res.status).toBe(202);
        pages.push(res.body);
        after = res.body.next_after ?? undefined;
      } while (after !== undefined && pages.length < 5);
      expect(pages.map((p) => p.queued)).toEqual([REPLAY_LIMIT, 2]);
      // Still there for the clients that page by it.
      expect(pages[0].next_since).toEqual(expect.any(String));
      const { rows: missing } = await t.raw.query(
        `SELECT e.sequence FROM events e
          WHERE e.tenant_id = $1 AND NOT EXISTS (
            SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = $2 AND d.event_id = e.id)`,
        [f.tenantId, endpoint],
      );
      expect(missing).toEqual([]);
      // Two replays queueing 10,002 deliveries: over 30 s on a loaded two-core CI machine.
    }, 120_000);
  });

  it('keeps a tenant to 50 endpoints under 30 concurrent creates', async () => {
    const g = await TenantSession.create(t, 'G');
    await seedEndpoints(g.tenantId, ENDPOINT_LIMITS.perTenant - 2);
    // Each insert checks its key to the tenant's row (KEY SHARE), which this holds FOR UPDATE
    // for a moment: every create that has counted waits at its insert, as a slow one would,
    // so that creates counting at once is not left to the scheduler.
    const holder = await t.raw.connect();
    let answers;
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE', [g.tenantId]);
      const creating = Promise.all(
        Array.from({ length: 30 }, () =>
          t.http().post('/v1/webhook-endpoints').set(g.admin).send({ url: REFUSING_WEBHOOK_URL }),
        ),
      );
      await new Promise((done) => setTimeout(done, 500));
      await holder.query('COMMIT');
      answers = await creating;
    } finally {
      holder.release();
    }
    // Before, the creates that counted at once each saw room: 53 or 54 endpoints from 48.
    expect(answers.filter((r) => r.status === 201)).toHaveLength(2);
    expect(answers.filter((r) => r.status === 409)).toHaveLength(28);
    const { rows } = await t.raw.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM webhook_endpoints WHERE tenant_id = $1',
      [g.tenantId],
    );
    expect(rows[0].n).toBe(ENDPOINT_LIMITS.perTenant);
  });
});
