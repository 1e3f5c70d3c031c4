import { TenantDb } from '../../src/database/tenant-db';
import { WorkflowChangesService } from '../../src/workflows/workflow-changes.service';
import { WorkflowCountCompactor } from '../../src/workflows/workflow-count-compactor';
import { WorkflowListsRepository } from '../../src/workflows/workflow-lists.repository';
import { WorkflowSweeper } from '../../src/workflows/workflow-sweeper';
import { WorkflowsRepository } from '../../src/workflows/workflows.repository';
import { workflowCounts } from '../helpers/invariants';
import { planOf } from '../helpers/plans';
import { TenantSession } from '../helpers/factories';
import { WorkflowWorld, workflowCalls, workflowWorld } from '../helpers/workflow-world';

describe('workflows', () => {
  let world: WorkflowWorld;
  let { t, a, otherCustomer, runtime, base } = {} as WorkflowWorld;

  beforeAll(async () => {
    world = await workflowWorld();
    ({ t, a, otherCustomer, runtime, base } = world);
  });
  afterAll(() => world.t.close());

  const { create, advance, stored } = workflowCalls(() => world);

  describe('lists', () => {
    let listed: TenantSession;
    let inst: string;
    let key: Record<string, string>;
    let c1: string;
    let c2: string;

    beforeAll(async () => {
      listed = await TenantSession.create(t, 'Lists');
      c1 = await listed.customer();
      c2 = await listed.customer();
      inst = await listed.instance();
      key = (await listed.proxyKey(inst)).headers;
      for (let i = 0; i < 25; i++) {
        await t
          .http()
          .post(`/internal/v1/instances/${inst}/workflows`)
          .set(key)
          .send({
            customer_id: i % 5 === 0 ? c2 : c1,
            workflow_type: i % 2 ? 'lead' : 'viewing',
            reference: `REF-${i % 3}`,
          })
          .expect(201);
      }
    });

    const page = (query: string) =>
      t.http().get(`/internal/v1/instances/${inst}/workflows?${query}`).set(key);

    it('pages newest first with a total, stable across pages', async () => {
      const first = await page('per_page=10').expect(200);
      expect(first.body).toMatchObject({ page: 1, per_page: 10, total: 25 });
      expect(first.body.workflows).toHaveLength(10);
      // A listed workflow reads field for field as the workflow read alone (rows are read by
      // position in the list and by name alone).
      for (const listedOne of first.body.workflows.slice(0, 3)) {
        const alone = await t
          .http()
          .get(`/internal/v1/instances/${inst}/workflows/${listedOne.id}`)
          .set(key);
        expect(listedOne).toEqual(alone.body);
      }
      const all = [];
      for (let p = 1; p <= 3; p++)
        all.push(...(await page(`per_page=10&page=${p}`).expect(200)).body.workflows);
      expect(all).toHaveLength(25);
      expect(new Set(all.map((w: { id: string }) => w.id)).size).toBe(25);
      const times = all.map((w: { created_at: string }) => w.created_at);
      expect([...times].sort().reverse()).toEqual(times);
      expect((await page('').expect(200)).body).toMatchObject({ page: 1, per_page: 20 });
      expect((await page('page=9').expect(200)).body).toMatchObject({ total: 25, workflows: [] });
      // A size the statement passes as a parameter pages the same rows as one written into it.
      const sevens = [];
      for (let p = 1; p <= 4; p++)
        sevens.push(...(await page(`per_page=7&page=${p}`).expect(200)).body.workflows);
      expect(sevens.map((w: { id: string }) => w.id)).toEqual(all.map((w) => w.id));
    });

    it('combines filters with AND', async () => {
      const res = await page(`customer_id=${c2}&workflow_type=viewing`).expect(200);
      expect(res.body.total).toBe(3);
      expect(
        res.body.workflows.every(
          (w: { customer_id: string; workflow_type: string }) =>
            w.customer_id === c2 && w.workflow_type === 'viewing',
        ),
      ).toBe(true);
      expect((await page('reference=REF-1&workflow_type=lead').expect(200)).body.total).toBe(4);
      expect((await page('status=completed').expect(200)).body.total).toBe(0);
    });

    it.each([
      'per_page=0',
      'per_page=101',
      'page=0',
      'page=x',
      'status=done',
      'workflow_type=x',
      'customer_id=1',
    ])('refuses %s with 422 at its query loc', async (query) => {
      const res = await page(query).expect(422);
      expect(res.body.detail[0].loc).toEqual(['query', query.split('=')[0]]);
    });

    it('gives the dashboard the whole tenant, confining customer admins', async () => {
      const all = await t.http().get('/v1/workflows?per_page=100').set(listed.admin).expect(200);
      expect(all.body.total).toBe(25);
      const confined = await t
        .http()
        .get('/v1/workflows')
        .set(listed.customerAdmin(c2))
        .expect(200);
      expect(confined.body.total).toBe(5);
      await t
        .http()
        .get(`/v1/workflows?customer_id=${c1}`)
        .set(listed.customerAdmin(c2))
        .expect(403);
      await t.http().get('/v1/workflows').set(listed.member(c2)).expect(403);
      const one = all.body.workflows.find((w: { customer_id: string }) => w.customer_id === c1);
      await t.http().get(`/v1/workflows/${one.id}`).set(listed.customerAdmin(c2)).expect(403);
      await t
        .http()
        .post(`/v1/workflows/${one.id}/abort`)
        .set(listed.customerAdmin(c2))
        .expect(403);
      expect(
        (await t.http().get(`/v1/workflows/${one.id}`).set(listed.admin).expect(200)).body.id,
      ).toBe(one.id);
    });

    describe('of a tenant with 50,000 workflows', () => {
      let many: TenantSession;
      const lists = () => t.app.get(WorkflowListsRepository);

      beforeAll(async () => {
        many = await TenantSession.create(t, 'Many');
        const [customer, instance] = [await many.customer(), await many.instance()];
        await t.raw.query(
          `INSERT INTO workflows (tenant_id, instance_id, customer_id, workflow_type)
           SELECT $1, $2, $3, 'lead' FROM generate_series(1, 50000)`,
          [many.tenantId, instance, customer],
        );
        await t.raw.query('ANALYZE workflows');
      });
      afterAll(() => t.raw.query('DELETE FROM workflows WHERE tenant_id = $1', [many.tenantId]));

      it('reads each filter by its index, not by walking every workflow of the tenant', async () => {
        // Values that match none of the 50,000: the plan must not walk them looking.
        const [customer, instance] = [await many.customer(), await many.instance()];
        for (const [filter, index] of [
          [{ status: 'completed' }, 'workflows_status_recent'],
          [{ workflowType: 'maintenance' }, 'workflows_type_recent'],
          [{ customerId: customer }, 'workflows_customer_recent'],
          [{ instanceId: instance }, 'workflows_instance_recent'],
          [{ reference: 'REF-none' }, 'workflows_reference'],
        ] as const) {
          // The list's own statement, explained in the tenant's transaction as the list runs it,
          // and as the generic plan its prepared statement may settle on.
          for (const generic of [false, true]) {
            const plan = await planOf(
              t,
              many.tenantId,
              'WITH page',
              () => lists().page(many.tenantId, filter, 1, 20),
              generic,
            );
            expect({ filter, generic, uses: plan.includes(`"Index Name":"${index}"`) }).toEqual({
              filter,
              generic,
              uses: true,
            });
          }
        }
      });

      it('keeps only its everyday lists prepared, however a tenant varies filters and sizes', async () => {
        const kept = await t.app.get(TenantDb).run(many.tenantId, async (m) => {
          const read = lists();
          for (let perPage = 1; perPage <= 30; perPage++) {
            for (const page of [1, 2]) {
              await read.page(many.tenantId, { status: 'active' }, page, perPage);
              await read.page(many.tenantId, { workflowType: 'lead' }, page, perPage);
              await read.page(many.tenantId, { reference: `R-${perPage}` }, page, perPage);
              await read.page(many.tenantId, { dueBefore: new Date() }, page, perPage);
              await read.page(many.tenantId, {}, page, perPage);
            }
          }
          const rows = await m.query<{ statement: string }[]>(
            `SELECT statement FROM pg_prepared_statements WHERE statement LIKE 'WITH page AS%'`,
          );
          return rows.map((r) => r.statement);
        });
        // Filtered by status, type, reference or time: sent unnamed, never kept.
        expect(
          kept.filter((sql) =>
            /AND (status|workflow_type|reference) =|next_action_at <=/.test(sql),
          ),
        ).toEqual([]);
        // Unfiltered: sizes 10 and 20 written in, any other size or page as parameters (other
        // tests on this pooled connection may have kept the other written sizes, 50 and 100).
        const limits = kept
          .filter((sql) => /WHERE tenant_id = \$1\s+ORDER BY/.test(sql))
          .map((sql) => /LIMIT (\S+?)[)\s]/.exec(sql)?.[1]);
        expect(limits).toEqual(expect.arrayContaining(['$2', '10', '20']));
        expect(limits.filter((limit) => !['$2', '10', '20', '50', '100'].includes(limit!))).toEqual(
          [],
        );
      });

      it('settles the default page on one generic plan rather than planning it on every run', async () => {
        // Generic plans the list's statements were run with, over eight first pages of a size.
        const generic = (perPage: number) =>
          t.app.get(TenantDb).run(many.tenantId, async (m) => {
            const used = async () => {
              const [row] = await m.query<{ n: string }[]>(
                `SELECT coalesce(sum(generic_plans), 0) AS n FROM pg_prepared_statements
                  WHERE statement LIKE 'WITH page AS%'`,
              );
              return Number(row.n);
            };
            const before = await used();
            for (let i = 0; i < 8; i++) await lists().page(many.tenantId, {}, 1, perPage);
            return (await used()) - before;
          });
        // After its first five runs PostgreSQL weighs the generic plan against the custom ones.
        expect(await generic(20)).toBeGreaterThanOrEqual(3);
        // A size passed as a parameter: the generic plan is priced for a tenth of the rows.
        expect(await generic(7)).toBe(0);
      });
    });
  });

  it('keeps list totals equal to the rows, through creates, status changes and expiry', async () => {
    const w = await create({ expires_at: '2000-01-01T00:00:00Z' });
    await advance((await create()).id, { status: 'completed' }).expect(200);
    await t
      .http()
      .post(`${base}/${(await create()).id}/suspend`)
      .set(runtime)
      .send({ step: 's' })
      .expect(200);
    await t.app.get(WorkflowSweeper).runOnce();
    expect((await stored(w.id)).status).toBe('expired');
    expect(await countMismatches()).toEqual([]);
    await expectTotalsMatchRows();

    // Folding the counter rows, with writes racing it, keeps every total exact.
    await Promise.all([
      t.app.get(WorkflowCountCompactor).runOnce(),
      ...Array.from({ length: 10 }, () => create()),
    ]);
    await t.app.get(WorkflowCountCompactor).runOnce();
    const perKey = await t.raw.query(
      `SELECT count(*) AS n FROM workflow_counts GROUP BY tenant_id, instance_id, customer_id, workflow_type, status`,
    );
    expect(perKey.rows.every((r: { n: string }) => r.n === '1')).toBe(true);
    expect(await countMismatches()).toEqual([]);
    await expectTotalsMatchRows();
  });

  const countMismatches = () => workflowCounts(t.raw, {});

  async function expectTotalsMatchRows(): Promise<void> {
    for (const status of ['active', 'completed', 'suspended', 'expired']) {
      const listed = await t.http().get(`/v1/workflows?status=${status}`).set(a.admin).expect(200);
      const rows = await t.raw.query(
        'SELECT count(*) FROM workflows WHERE tenant_id = $1 AND status = $2',
        [a.tenantId, status],
      );
      expect([status, listed.body.total]).toEqual([status, Number(rows.rows[0].count)]);
    }
  }

  describe('dashboard actions', () => {
    it('lists suspended workflows (not captured as an id), and suspends, resumes, aborts', async () => {
      const w = await create();
      await t
        .http()
        .post(`/v1/workflows/${w.id}/suspend`)
        .set(a.admin)
        .send({ step: 'review', payload: [1, 2] })
        .expect(200);
      const suspended = await t.http().get('/v1/workflows/suspended').set(a.admin).expect(200);
      expect(Array.isArray(suspended.body)).toBe(true);
      expect(suspended.body.map((x: { id: string }) => x.id)).toContain(w.id);
      expect(suspended.body.find((x: { id: string }) => x.id === w.id).suspended_payload).toEqual([
        1, 2,
      ]);
      const c = await t
        .http()
        .get('/v1/workflows/suspended')
        .set(a.customerAdmin(otherCustomer))
        .expect(200);
      expect(c.body).toEqual([]);
      await t
        .http()
        .post(`/v1/workflows/${w.id}/resume`)
        .set(a.admin)
        .send({ resume_data: { ok: true } })
        .expect(200);
      const aborted = await t.http().post(`/v1/workflows/${w.id}/abort`).set(a.admin).expect(200);
      expect(aborted.body).toEqual({ id: w.id, message: expect.any(String), status: 'cancelled' });
      const row = await stored(w.id);
      expect(row.history.map((e: { action: string; actor: string }) => e.action)).toEqual([
        'created',
        'suspended',
        'resumed',
        'aborted',
      ]);
      expect(row.history[3].actor).toMatch(/^user:/);
      await t.http().get('/v1/workflows/not-a-uuid').set(a.admin).expect(422);
      await t
        .http()
        .get('/v1/workflows/00000000-0000-4000-8000-000000000000')
        .set(a.admin)
        .expect(404);
    });

    it('aborts a suspended workflow, clearing the suspension', async () => {
      const w = await create();
      await t.http().post(`${base}/${w.id}/suspend`).set(runtime).send({ step: 's' }).expect(200);
      await t.http().post(`/v1/workflows/${w.id}/abort`).set(a.admin).expect(200);
      expect(await stored(w.id)).toMatchObject({
        status: 'cancelled',
        suspended_at: null,
        suspended_step: null,
      });
    });
  });

  describe('expiry sweeper', () => {
    it('expires open workflows past expires_at with a system entry, once, even with two sweepers racing', async () => {
      const session = await TenantSession.create(t, 'Sweep');
      const cust = await session.customer();
      const inst = await session.instance();
      const key = (await session.proxyKey(inst)).headers;
      const make = async (body: object) =>
        (
          await t
            .http()
            .post(`/internal/v1/instances/${inst}/workflows`)
            .set(key)
            .send({ customer_id: cust, workflow_type: 'lead', ...body })
            .expect(201)
        ).body.id as string;
      const past = '2000-01-01T00:00:00Z';
      const due = await Promise.all([
        make({ expires_at: past }),
        make({ expires_at: past, stage: 's1' }),
        make({ expires_at: past }),
      ]);
      await t
        .http()
        .post(`/internal/v1/instances/${inst}/workflows/${due[2]}/suspend`)
        .set(key)
        .send({ step: 'x' })
        .expect(200);
      const future = await make({ expires_at: '2100-01-01T00:00:00Z' });
      const finished = await make({ expires_at: past });
      await t
        .http()
        .patch(`/internal/v1/instances/${inst}/workflows/${finished}`)
        .set(key)
        .send({ action: 'done', status: 'completed' })
        .expect(200);

      const sweeper = t.app.get(WorkflowSweeper);
      // A second replica's sweeper: same database, its own pass.
      const replica = new WorkflowSweeper(
        t.config,
        t.app.get(TenantDb),
        t.app.get(WorkflowsRepository),
        t.app.get(WorkflowChangesService),
      );
      const [one, two] = await Promise.all([sweeper.runOnce(), replica.runOnce()]);
      expect(one + two).toBeGreaterThanOrEqual(3);

      for (const id of due) {
        const row = await stored(id);
        expect(row).toMatchObject({ status: 'expired', suspended_at: null });
        const expiries = row.history.filter((e: { action: string }) => e.action === 'expired');
        expect(expiries).toEqual([
          expect.objectContaining({ actor: 'system', to_status: 'expired' }),
        ]);
      }
      expect((await stored(due[1])).history.at(-1)).toMatchObject({
        from_status: 'active',
        from_stage: 's1',
        to_stage: 's1',
      });
      expect((await stored(future)).status).toBe('active');
      expect((await stored(finished)).status).toBe('completed');
      expect(await sweeper.runOnce()).toBe(0);
    });
  });

  describe('isolation', () => {
    it('keeps another instance of the tenant, and another tenant, out (404), changing nothing', async () => {
      const w = await create();
      const sibling = await a.instance();
      const siblingKey = (await a.proxyKey(sibling)).headers;
      const siblingBase = `/internal/v1/instances/${sibling}/workflows`;
      await t.http().get(`${siblingBase}/${w.id}`).set(siblingKey).expect(404);
      await t
        .http()
        .patch(`${siblingBase}/${w.id}`)
        .set(siblingKey)
        .send({ action: 'x', status: 'failed' })
        .expect(404);
      await t
        .http()
        .post(`${siblingBase}/${w.id}/suspend`)
        .set(siblingKey)
        .send({ step: 's' })
        .expect(404);
      expect(
        (await t.http().get(siblingBase).set(siblingKey).expect(200)).body.workflows.map(
          (x: { id: string }) => x.id,
        ),
      ).not.toContain(w.id);

      const other = await TenantSession.create(t, 'Other');
      const otherInstance = await other.instance();
      const otherKey = (await other.proxyKey(otherInstance)).headers;
      await t
        .http()
        .get(`/internal/v1/instances/${otherInstance}/workflows/${w.id}`)
        .set(otherKey)
        .expect(404);
      await t
        .http()
        .post(`/internal/v1/instances/${otherInstance}/workflows/${w.id}/resume`)
        .set(otherKey)
        .send({})
        .expect(404);
      const apiKey = await other.apiKey('admin');
      for (const headers of [other.admin, apiKey.headers]) {
        await t.http().get(`/v1/workflows/${w.id}`).set(headers).expect(404);
        await t.http().post(`/v1/workflows/${w.id}/abort`).set(headers).expect(404);
        await t
          .http()
          .post(`/v1/workflows/${w.id}/suspend`)
          .set(headers)
          .send({ step: 's' })
          .expect(404);
        expect((await t.http().get('/v1/workflows').set(headers).expect(200)).body.total).toBe(0);
        expect(
          (await t.http().get('/v1/workflows/suspended').set(headers).expect(200)).body,
        ).toEqual([]);
      }
      expect(await stored(w.id)).toMatchObject({ status: 'active' });
      expect((await stored(w.id)).history).toHaveLength(1);
    });
  });
});
