import { TenantDb } from '../../src/database/tenant-db';
import { COUNTED_ROW_BYTES as COUNT, WALKED_ROW_BYTES as WALK } from '../../src/common/list';
import { WorkflowListsRepository } from '../../src/workflows/workflow-lists.repository';
import { WorkflowsRepository } from '../../src/workflows/workflows.repository';
import { startTestApp, TestApp } from '../helpers/app';
import { planOf } from '../helpers/plans';
import { TenantSession } from '../helpers/factories';

/**
 * A page deep in a list, or a count without counters, makes the database read every row before
 * it, whatever the page holds. Those rows are charged to the tenant's pace, as documents are:
 * a tenant paging without end slows itself, not the others (each case's tenant has a pace of
 * its own; BENCHMARKS.md measures the others' latency).
 */
describe('rows a list walks are charged to its tenant', () => {
  let t: TestApp;
  const ROWS = 30_000;

  beforeAll(async () => {
    // The slowest pace allowed (1 MiB/s, 32 MiB from rest), and a wait of 0.3 s before a tenant
    // in debt is told to retry: a walk over ROWS rows is charged 1.83 MiB, so about 17 of them
    // spend a rested tenant's burst (a count, 0.69 MiB, about 46), and the request after them
    // owes more than 0.3 s. A walk of ROWS rows takes a few tens of milliseconds.
    t = await startTestApp({
      TENANT_DOCUMENT_BYTES_PER_SECOND: String(1024 * 1024),
      DB_STATEMENT_TIMEOUT_MS: '300',
    });
  });
  afterAll(() => t.close());

  /** A tenant of its own (a rested pace) holding ROWS workflows or approvals. */
  async function walker(rows: 'workflows' | 'approvals'): Promise<TenantSession> {
    const b = await TenantSession.create(t, 'B');
    const [customer, instance] = [await b.customer(), await b.instance()];
    if (rows === 'workflows') {
      await t.raw.query(
        `INSERT INTO workflows (tenant_id, instance_id, customer_id, workflow_type, next_action_at)
         SELECT $1, $2, $3, 'lead', now() + interval '1 day' FROM generate_series(1, $4)`,
        [b.tenantId, instance, customer, ROWS],
      );
    } else {
      await t.raw.query(
        `INSERT INTO approvals (tenant_id, customer_id, approval_ref, skill_slug, action,
           serialized_intent, intent_hash, approver_role, request_hash, expires_at)
         SELECT $1, $2, 'APR-' || translate(lpad(g::text, 6, '0'), '01', 'AB'), 'pay', 'send',
                '{}', 'h', 'owner', 'h', now() + interval '1 day'
           FROM generate_series(1, $3) g`,
        [b.tenantId, customer, ROWS],
      );
    }
    await t.raw.query(`ANALYZE ${rows}`);
    return b;
  }

  /** `b`'s requests to `path` one after another, until one is refused or `max` have been sent. */
  async function untilRefused(b: TenantSession, path: string, max: number): Promise<number[]> {
    const statuses: number[] = [];
    while (statuses.length < max && statuses.at(-1) !== 429) {
      statuses.push((await t.http().get(path).set(b.admin)).status);
    }
    return statuses;
  }

  // [case, rows, path, bytes charged a request per row held: walked to the page, counted]
  const cases = [
    ['a workflow page past the last', 'workflows', '/v1/workflows?page=1000&per_page=100', WALK],
    ['a deep workflow page', 'workflows', `/v1/workflows?page=${ROWS / 100}&per_page=100`, WALK],
    ['due_before, counted', 'workflows', '/v1/workflows?due_before=2999-01-01T00:00:00Z', COUNT],
    ['an approval page past the last', 'approvals', `/v1/approvals?offset=${ROWS}`, WALK + COUNT],
    ['an approval page, counted', 'approvals', '/v1/approvals?limit=100', COUNT],
  ] as const;

  it.each(cases)(
    '%s: B spends its burst, then waits',
    async (_, rows, path, perRow) => {
      const b = await walker(rows);
      // Answered until the burst was spent, and some more for the pace refilled meanwhile.
      const burst = Math.floor((32 * 1024 * 1024) / (ROWS * perRow));
      const statuses = await untilRefused(b, path, burst * 2 + 5);
      expect(statuses.at(-1)).toBe(429);
      const answered = statuses.filter((status) => status === 200).length;
      expect({ answered, inRange: answered >= burst && answered <= burst * 2 }).toEqual({
        answered,
        inRange: true,
      });
    },
    60_000,
  );

  it('goes through the walk turn with its offset, on both lists', async () => {
    const b = await walker('workflows');
    const walks = jest.spyOn(t.app.get(TenantDb).admission, 'walk');
    try {
      for (const path of ['/v1/workflows?page=101&per_page=100', '/v1/approvals?offset=10000']) {
        await t.http().get(path).set(b.admin).expect(200);
      }
      expect(walks.mock.calls.map(([tenantId, offset]) => [tenantId, offset])).toEqual([
        [b.tenantId, 10_000],
        [b.tenantId, 10_000],
      ]);
    } finally {
      walks.mockRestore();
    }
  });

  it('charges nothing for the first page of a list the counters total', async () => {
    const b = await walker('workflows');
    expect(await untilRefused(b, '/v1/workflows?per_page=100', 40)).toEqual(Array(40).fill(200));
  }, 60_000);

  it('reads due_before from its index, not by walking the tenant', async () => {
    const b = await walker('workflows');
    const lists = t.app.get(WorkflowListsRepository);
    for (const generic of [false, true]) {
      const plan = await planOf(
        t,
        b.tenantId,
        'WITH page',
        () => lists.page(b.tenantId, { dueBefore: new Date('2000-01-01') }, 1, 20),
        generic,
      );
      expect({
        generic,
        due: plan.includes('"Index Name":"workflows_due_list"'),
        walks: plan.includes('"Index Name":"workflows_tenant_recent"'),
      }).toEqual({ generic, due: true, walks: false });
    }
  });

  it("leaves the timer pass's claim on workflows_due, past every announced time", async () => {
    // Every workflow's time has come and been announced: an index led by the tenant and the
    // time would read them all for a claim that finds nothing.
    const b = await walker('workflows');
    await t.raw.query(
      `UPDATE workflows SET next_action_at = now() - interval '1 hour',
         due_announced_for = now() - interval '1 hour' WHERE tenant_id = $1`,
      [b.tenantId],
    );
    await t.raw.query('ANALYZE workflows');
    const workflows = t.app.get(WorkflowsRepository);
    const plan = await planOf(t, b.tenantId, 'WITH due', () => workflows.claimDue(b.tenantId, 100));
    expect(plan).toContain('"Index Name":"workflows_due"');
  });
});
