import { QueryRunner } from 'typeorm';
import { FiringLogWithoutRuleKey1732409800000 } from '../../migrations/1732409800000-firing-log-without-rule-key';
import { TenantDb } from '../../src/database/tenant-db';
import { EventLogService } from '../../src/event-log/event-log.service';
import { EventSequencer } from '../../src/event-log/event-sequencer';
import { EvaluationRetention } from '../../src/rules/firing-log/evaluation-retention';
import { RulesService } from '../../src/rules/rules.service';
import { TestApp, startTestApp } from '../helpers/app';
import { lockWaiters, until } from '../helpers/locks';
import { TenantSession } from '../helpers/factories';

/**
 * The firing log through the API, against PostgreSQL: GET /v1/rules/{rule_id}/firings for what
 * fired or was held back, and an event's evaluations (skipped rules with the condition they
 * failed) as the event's detail reads them. Each test has a tenant of its own.
 */
describe('rule firings', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  interface World {
    s: TenantSession;
    customer: string;
    instance: string;
    runtime: Record<string, string>;
  }

  const world = async (): Promise<World> => {
    const s = await TenantSession.create(t, 'Firings');
    const instance = await s.instance();
    return {
      s,
      instance,
      customer: await s.customer(),
      runtime: (await s.proxyKey(instance)).headers,
    };
  };

  const rule = async (w: World, body: object = {}): Promise<string> =>
    (
      await t
        .http()
        .post('/v1/rules')
        .set(w.s.admin)
        .send({
          name: 'r',
          trigger_event: 'skill.invoked',
          cooldown_seconds: 0,
          actions: [{ type: 'block', reason: 'no' }],
          ...body,
        })
        .expect(201)
    ).body.id;

  /** POSTs an event as the runtime; answers the route's body and the recorded event's id. */
  const post = async (w: World, payload: object = {}, customer = w.customer) => {
    const res = await t
      .http()
      .post(`/internal/v1/instances/${w.instance}/events`)
      .set(w.runtime)
      .send({ event: 'skill.invoked', customer_id: customer, payload });
    const { rows } = await t.raw.query<{ id: string }>(
      `SELECT id FROM events WHERE tenant_id = $1 AND type = 'skill.invoked'
        ORDER BY position DESC LIMIT 1`,
      [w.s.tenantId],
    );
    return { res, eventId: rows[0]?.id };
  };

  const firings = (w: World, ruleId: string, query = '', headers = w.s.admin) =>
    t.http().get(`/v1/rules/${ruleId}/firings${query}`).set(headers);

  const evaluationsOf = (w: World, eventId: string) =>
    t.app
      .get(TenantDb)
      .run(w.s.tenantId, () => t.app.get(RulesService).evaluationsOf(w.s.tenantId, eventId));

  it('logs a fired rule: the event, its decision and what each action created', async () => {
    const w = await world();
    const ruleId = await rule(w, {
      actions: [
        {
          type: 'require_approval',
          skill_slug: 'payments',
          action: 'pay_contractor',
          approver_role: 'owner',
        },
        { type: 'create_workflow', workflow_type: 'lead' },
        { type: 'notify', to: 'ops', message: 'seen' },
      ],
    });
    const { res, eventId } = await post(w, { skill_slug: 'payments' });
    expect(res.status).toBe(200);

    const page = (await firings(w, ruleId).expect(200)).body;
    expect(page).toEqual({
      firings: [
        {
          id: expect.any(String),
          event_id: eventId,
          event_type: 'skill.invoked',
          rule_id: ruleId,
          customer_id: w.customer,
          outcome: 'fired',
          decision: 'require_approval',
          actions: [
            { type: 'require_approval', approval_id: res.body.approvals[0].id },
            { type: 'create_workflow', workflow_id: res.body.workflows[0].id },
            { type: 'notify' },
          ],
          at: expect.any(String),
        },
      ],
      count: 1,
    });
    expect(Date.now() - Date.parse(page.firings[0].at)).toBeLessThan(60_000);

    const blocking = await rule(w, {
      actions: [
        { type: 'notify', to: 'ops', message: 'x' },
        { type: 'block', reason: 'no' },
      ],
    });
    await post(w, {});
    expect((await firings(w, blocking).expect(200)).body.firings[0]).toMatchObject({
      outcome: 'fired',
      decision: 'block',
      actions: [{ type: 'notify' }, { type: 'block' }],
    });
  });

  it('logs a rule held by its cooldown, and a tenant default overridden by a customer rule', async () => {
    const w = await world();
    const cooled = await rule(w, { cooldown_seconds: 300, priority: 5 });
    const tenantDefault = await rule(w, { rule_key: 'limit' });
    const override = await rule(w, { rule_key: 'limit', customer_id: w.customer });
    const first = await post(w);
    const second = await post(w);

    const cooledLog = (await firings(w, cooled).expect(200)).body.firings;
    expect(cooledLog.map((f: { event_id: string }) => f.event_id)).toEqual([
      second.eventId,
      first.eventId,
    ]);
    expect(cooledLog[0]).toMatchObject({
      outcome: 'suppressed_cooldown',
      decision: null,
      actions: [],
    });
    expect(cooledLog[1]).toMatchObject({ outcome: 'fired', decision: 'block' });

    const overridden = (await firings(w, tenantDefault).expect(200)).body.firings;
    expect(overridden.map((f: { outcome: string }) => f.outcome)).toEqual([
      'overridden',
      'overridden',
    ]);
    expect(overridden[0]).toMatchObject({ decision: null, actions: [] });
    expect((await firings(w, override).expect(200)).body.count).toBe(2);
  });

  it("lists an event's evaluations, skipped rules with the first condition they failed", async () => {
    const w = await world();
    const fires = await rule(w, { priority: 30 });
    const skipped = await rule(w, {
      priority: 20,
      conditions: [
        { field: 'skill_slug', operator: 'eq', value: 'payments' },
        { field: 'amount', operator: 'gt', value: 500 },
      ],
    });
    const skippedFirst = await rule(w, {
      priority: 10,
      conditions: [{ field: 'currency', operator: 'in', value: ['EUR', 'USD'] }],
    });
    const { eventId } = await post(w, { skill_slug: 'payments', amount: 100 });
    // Rules written after the event change nothing of what it was evaluated against.
    await t
      .http()
      .patch(`/v1/rules/${skipped}`)
      .set(w.s.admin)
      .send({ conditions: [{ field: 'amount', operator: 'lt', value: 1 }] })
      .expect(200);
    await rule(w, { priority: 40 });
    await t
      .http()
      .patch(`/v1/rules/${skippedFirst}`)
      .set(w.s.admin)
      .send({ priority: 50 })
      .expect(200);

    // What the dashboard shows of the event: GET /v1/events/{id} once the event is numbered.
    await t.app.get(EventSequencer).sweep();
    const detail = await t.http().get(`/v1/events/${eventId}`).set(w.s.admin).expect(200);
    expect(detail.body.rule_evaluations).toEqual([
      expect.objectContaining({ rule_id: fires, outcome: 'fired', failed_condition: null }),
      expect.objectContaining({
        id: null,
        event_id: eventId,
        event_type: 'skill.invoked',
        rule_id: skipped,
        customer_id: w.customer,
        outcome: 'skipped',
        decision: null,
        actions: [],
        failed_condition: {
          field: 'amount',
          operator: 'gt',
          expected: 500,
          actual: 100,
          actual_truncated: false,
        },
      }),
      expect.objectContaining({
        rule_id: skippedFirst,
        outcome: 'skipped',
        failed_condition: {
          field: 'currency',
          operator: 'in',
          expected: ['EUR', 'USD'],
          actual: null,
          actual_truncated: false,
        },
      }),
    ]);
    // The same for the event's own customer admin.
    const own = await t
      .http()
      .get(`/v1/events/${eventId}`)
      .set(w.s.customerAdmin(w.customer))
      .expect(200);
    expect(own.body.rule_evaluations).toEqual(detail.body.rule_evaluations);
    // Skipped rules are the event's business, not the rule's: its firings list none.
    expect((await firings(w, skipped).expect(200)).body).toEqual({ firings: [], count: 0 });
    // An event no rule triggers on has no evaluations.
    const [other] = await t.app
      .get(TenantDb)
      .run(w.s.tenantId, () =>
        t.app.get(EventLogService).record(w.s.tenantId, { type: 'test.unruled', data: {} }),
      );
    await t.app.get(EventSequencer).sweep();
    const none = await t.http().get(`/v1/events/${other}`).set(w.s.admin).expect(200);
    expect(none.body.rule_evaluations).toEqual([]);
  });

  it("shows at most 1,000 characters of a skipped rule's value, which the event's data holds whole", async () => {
    const w = await world();
    const rules = await Promise.all(
      [1, 2, 3].map((n) =>
        rule(w, { conditions: [{ field: 'requested_by', operator: 'eq', value: `agent ${n}` }] }),
      ),
    );
    // 1,200 code points, each a surrogate pair: the cut falls between pairs, never inside one.
    const long = '𝒜'.repeat(1_200);
    const { eventId } = await post(w, { skill_slug: 'payments', requested_by: long });
    await t.app.get(EventSequencer).sweep();
    const detail = await t.http().get(`/v1/events/${eventId}`).set(w.s.admin).expect(200);
    expect(detail.body.data.requested_by).toBe(long);
    const shown = detail.body.rule_evaluations.map(
      (e: { rule_id: string; failed_condition: object }) => [e.rule_id, e.failed_condition],
    );
    expect(shown).toEqual(
      expect.arrayContaining(
        rules.map((id) => [
          id,
          expect.objectContaining({ actual: '𝒜'.repeat(1_000), actual_truncated: true }),
        ]),
      ),
    );
  });

  it('answers 409 busy to an event whose rule is deleted under it, and its retry goes through', async () => {
    const w = await world();
    const kept = await rule(w, { priority: 20 });
    const gone = await rule(w, { priority: 10 });
    const count = async () =>
      (
        await t.raw.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM events WHERE tenant_id = $1',
          [w.s.tenantId],
        )
      ).rows[0].n;
    const before = await count();
    const deleting = await t.raw.connect();
    try {
      await deleting.query('BEGIN');
      await deleting.query('DELETE FROM rules WHERE tenant_id = $1 AND id = $2', [
        w.s.tenantId,
        gone,
      ]);
      // The event reads the rule set as it was, then waits for the deleted rule's row.
      const sent = post(w);
      await until(async () => (await lockWaiters(t)) > 0);
      await deleting.query('COMMIT');
      const { res } = await sent;
      expect(res.status).toBe(409);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.body).toEqual({ detail: expect.stringMatching(/rules changed/) });
    } finally {
      await deleting.query('ROLLBACK').catch(() => undefined);
      deleting.release();
    }
    expect(await count()).toBe(before); // nothing of the refused event was kept
    const { res, eventId } = await post(w);
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).toContain(kept);
    expect(JSON.stringify(res.body)).not.toContain(gone);
    const { rows } = await t.raw.query<{ rule_id: string; outcome: string }>(
      'SELECT rule_id, outcome FROM rule_evaluations WHERE event_id = $1',
      [eventId],
    );
    expect(rows).toEqual([{ rule_id: kept, outcome: 'fired' }]);
  });

  it('leaves out the row an event logged for a rule held back while its deletion ran', async () => {
    const w = await world();
    const kept = await rule(w, { priority: 20 });
    const gone = await rule(w, { priority: 10, cooldown_seconds: 3600 });
    expect((await post(w)).res.status).toBe(200); // `gone` fires and starts its cooldown
    const deleting = await t.raw.connect();
    let eventId: string;
    try {
      await deleting.query('BEGIN');
      await deleting.query('DELETE FROM rules WHERE tenant_id = $1 AND id = $2', [
        w.s.tenantId,
        gone,
      ]);
      // The event reads the rule set as it was and logs `gone` as held: nothing waits for the
      // deletion, whose removal of the rule's rows has already run.
      const sent = await post(w);
      expect(sent.res.status).toBe(200);
      expect(sent.res.body.suppressed).toEqual([expect.objectContaining({ rule_id: gone })]);
      eventId = sent.eventId;
      await deleting.query('COMMIT');
    } finally {
      await deleting.query('ROLLBACK').catch(() => undefined);
      deleting.release();
    }
    const { rows } = await t.raw.query<{ rule_id: string }>(
      'SELECT rule_id FROM rule_evaluations WHERE event_id = $1 ORDER BY rule_id = $2',
      [eventId, kept],
    );
    expect(rows.map((r) => r.rule_id)).toEqual([gone, kept]);
    expect((await evaluationsOf(w, eventId)).map((e) => [e.ruleId, e.outcome])).toEqual([
      [kept, 'fired'],
    ]);
    await firings(w, gone).expect(404);
  });

  it('migrates down and up again: the rule key, with the rows it would refuse removed first', async () => {
    const w = await world();
    const ruleId = await rule(w);
    const { eventId } = await post(w);
    const orphan = '00000000-0000-4000-8000-00000000000f';
    const client = await t.owner.connect();
    const q = { query: (sql: string) => client.query(sql) } as unknown as QueryRunner;
    const rows = async () =>
      (
        await client.query<{ rule_id: string }>(
          'SELECT rule_id FROM rule_evaluations WHERE event_id = $1 ORDER BY rule_id',
          [eventId],
        )
      ).rows.map((r) => r.rule_id);
    const migration = new FiringLogWithoutRuleKey1732409800000();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [w.s.tenantId]);
      await client.query(
        `INSERT INTO rule_evaluations (tenant_id, event_id, rule_id, id, customer_id, outcome, at)
         VALUES ($1, $2, $3, $3, $4, 'suppressed_cooldown', now())`,
        [w.s.tenantId, eventId, orphan, w.customer],
      );
      expect(await rows()).toEqual([orphan, ruleId].sort());
      await migration.down(q);
      expect(await rows()).toEqual([ruleId]);
      await expect(
        client.query(
          `INSERT INTO rule_evaluations (tenant_id, event_id, rule_id, id, outcome, at)
           VALUES ($1, $2, $3, $3, 'fired', now())`,
          [w.s.tenantId, eventId, orphan],
        ),
      ).rejects.toThrow(/rule_evaluations_tenant_id_rule_id_fkey/);
    } finally {
      await client.query('ROLLBACK');
    }
    try {
      await client.query('BEGIN');
      await migration.down(q);
      await migration.up(q);
      await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [w.s.tenantId]);
      await client.query(`DELETE FROM rules WHERE id = $1`, [ruleId]);
      expect(await rows()).toEqual([]); // the trigger removed the deleted rule's rows
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('keeps nothing of an event the route refuses for its effects: the 422 as before', async () => {
    const w = await world();
    const approval = { type: 'require_approval', skill_slug: 'payments', action: 'pay_contractor' };
    for (let i = 0; i < 3; i++) await rule(w, { actions: Array(10).fill(approval) });
    const { res } = await post(w);
    expect(res.status).toBe(422);
    expect(res.body.detail[0].loc).toEqual(['body', 'event']);
    const { rows } = await t.raw.query(
      `SELECT (SELECT count(*) FROM rule_evaluated_events WHERE tenant_id = $1)::int AS facts,
              (SELECT count(*) FROM rule_evaluations WHERE tenant_id = $1)::int AS rows`,
      [w.s.tenantId],
    );
    expect(rows[0]).toEqual({ facts: 0, rows: 0 });
  });

  it('pages newest first: a page ends where `after` says, and a short page is the last', async () => {
    const w = await world();
    const ruleId = await rule(w);
    const events: string[] = [];
    for (let i = 0; i < 5; i++) events.push((await post(w, { amount: i })).eventId);
    const newestFirst = [...events].reverse();

    const seen: string[] = [];
    let after = '';
    for (const expected of [2, 2, 1]) {
      const page = (await firings(w, ruleId, `?limit=2${after}`).expect(200)).body;
      expect(page.count).toBe(expected);
      expect(page.firings).toHaveLength(expected);
      seen.push(...page.firings.map((f: { event_id: string }) => f.event_id));
      after = `&after=${page.firings[page.firings.length - 1].id}`;
    }
    expect(seen).toEqual(newestFirst);
    expect((await firings(w, ruleId).expect(200)).body.count).toBe(5); // default limit 100

    for (const bad of ['?limit=0', '?limit=501', '?limit=x', '?after=nope']) {
      const res = await firings(w, ruleId, bad).expect(422);
      expect(res.body.detail[0].loc).toEqual(['query', bad.slice(1).split('=')[0]]);
    }
  });

  it('is read as the rule is: admins only, other customers 403, other tenants 404', async () => {
    const w = await world();
    const other = await w.s.customer('Other');
    const mine = await rule(w, { customer_id: w.customer });
    const tenantDefault = await rule(w);
    await post(w);
    await post(w, {}, other);

    await firings(w, mine, '', w.s.customerAdmin(w.customer)).expect(200);
    await firings(w, mine, '', w.s.customerAdmin(other)).expect(403);
    await firings(w, mine, '', w.s.member(w.customer)).expect(403);
    await firings(w, mine, '', (await TenantSession.create(t, 'Elsewhere')).admin).expect(404);
    await firings(w, '00000000-0000-4000-8000-000000000000').expect(404);

    // A tenant default fires for every customer: each customer admin sees its own firings only.
    const all = (await firings(w, tenantDefault).expect(200)).body.firings;
    expect(all.map((f: { customer_id: string }) => f.customer_id)).toEqual([other, w.customer]);
    const theirs = (await firings(w, tenantDefault, '', w.s.customerAdmin(other)).expect(200)).body
      .firings;
    expect(theirs.map((f: { customer_id: string }) => f.customer_id)).toEqual([other]);
  });

  it('goes with its rule, and is kept as long as events are', async () => {
    const w = await world();
    const kept = await rule(w);
    const deleted = await rule(w);
    const { eventId: old } = await post(w);
    const { eventId: recent } = await post(w);
    const rows = async (ruleId: string) =>
      Number(
        (await t.raw.query('SELECT count(*) FROM rule_evaluations WHERE rule_id = $1', [ruleId]))
          .rows[0].count,
      );
    expect(await rows(deleted)).toBe(2);
    await t.http().delete(`/v1/rules/${deleted}`).set(w.s.admin).expect(204);
    expect(await rows(deleted)).toBe(0);
    expect((await evaluationsOf(w, old)).map((e) => e.ruleId)).toEqual([kept]);

    const days = t.config.eventRetentionDays;
    await t.raw.query(
      `UPDATE rule_evaluated_events SET at = now() - make_interval(days => $2) WHERE event_id = $1`,
      [old, days + 1],
    );
    // A rule's conditions as they were stay while an evaluation may need them, a day longer.
    await t.http().patch(`/v1/rules/${kept}`).set(w.s.admin).send({ priority: 3 }).expect(200);
    const revisions = async () =>
      Number(
        (await t.raw.query('SELECT count(*) FROM rule_revisions WHERE rule_id = $1', [kept]))
          .rows[0].count,
      );
    expect(await revisions()).toBe(2);
    await t.raw.query(
      `UPDATE rule_revisions SET closed_at = now() - make_interval(days => $2) WHERE rule_id = $1
          AND closed_at IS NOT NULL`,
      [kept, days],
    );
    await t.app.get(EvaluationRetention).runOnce();
    expect(await evaluationsOf(w, old)).toEqual([]);
    // Rows, not just what the log shows: the rules' rows go with their facts.
    const left = await t.raw.query(
      `SELECT (SELECT count(*) FROM rule_evaluations WHERE event_id = $1)::int AS rules,
              (SELECT count(*) FROM rule_evaluated_events WHERE event_id = $1)::int AS facts`,
      [old],
    );
    expect(left.rows[0]).toEqual({ rules: 0, facts: 0 });
    expect((await firings(w, kept).expect(200)).body.firings).toEqual([
      expect.objectContaining({ event_id: recent }),
    ]);
    expect(await revisions()).toBe(2);
    await t.raw.query(
      `UPDATE rule_revisions SET closed_at = now() - make_interval(days => $2) WHERE rule_id = $1
          AND closed_at IS NOT NULL`,
      [kept, days + 2],
    );
    await t.app.get(EvaluationRetention).runOnce();
    expect(await revisions()).toBe(1);
  });
});
