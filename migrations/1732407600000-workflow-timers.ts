import { MigrationInterface, QueryRunner } from 'typeorm';

const OPEN = `status IN ('active', 'awaiting_approval', 'paused', 'suspended')`;
/** Open, with a next_action_at that has not been announced yet (the time may be to come). */
const UNANNOUNCED = `${OPEN} AND next_action_at IS NOT NULL
  AND due_announced_for IS DISTINCT FROM next_action_at`;

/**
 * Workflow timers: `workflow.due` once per next_action_at value, and expiry within seconds.
 *
 * The workflow row is the timers' only state. `due_announced_for` is the next_action_at value
 * whose `workflow.due` has been raised; a row is due while its next_action_at has come and
 * differs from it, so a new value re-arms the timer by itself and nothing else has to be kept
 * in step with next_action_at. The timer pass claims due rows (FOR UPDATE SKIP LOCKED), marks
 * them and records their events in one transaction: an event exists exactly when its mark does.
 *
 * Every replica looks for work once a second, across all tenants, as hydracore_worker: the
 * policies below show that role the tenant id of a row that is due now or past expires_at while
 * open, and nothing else of any row; the partial indexes make that look one short index scan
 * whatever the number of tenants and workflows.
 */
export class WorkflowTimers1732407600000 implements MigrationInterface {
  name = 'WorkflowTimers1732407600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE workflows ADD COLUMN due_announced_for timestamptz;

      -- Rows whose time is pending: the timer scan and claim read only the part that has come.
      -- No index serves due_before lists, on purpose: one on (tenant_id, next_action_at) of
      -- all open rows looked cheaper to the planner for the claim too, which then read every
      -- announced row of the tenant whose time had passed (77 ms against 1 ms, with 50,000).
      CREATE INDEX workflows_due ON workflows (next_action_at, tenant_id) WHERE ${UNANNOUNCED};
      -- Expiry is found across tenants now, so the time leads (unlike the tenant-led index
      -- it replaces): the look reads only rows past their time, not every open workflow that
      -- has an expiry, most of them weeks away. The time leads workflows_due for the same reason.
      CREATE INDEX workflows_expiry ON workflows (expires_at, tenant_id)
        WHERE ${OPEN} AND expires_at IS NOT NULL;
      DROP INDEX workflows_expiring;

      GRANT SELECT (tenant_id) ON workflows TO hydracore_worker;
      CREATE POLICY worker_timers_due ON workflows FOR SELECT TO hydracore_worker
        USING (${UNANNOUNCED} AND next_action_at <= now());
      CREATE POLICY worker_timers_expired ON workflows FOR SELECT TO hydracore_worker
        USING (${OPEN} AND expires_at IS NOT NULL AND expires_at <= now());`);

    // A time that came before timers existed is not announced now: the first pass would raise a
    // flood of stale events at once. Such workflows are still listed by due_before. The owner
    // lifts FORCE for this statement only, inside this migration's transaction.
    await q.query(`
      ALTER TABLE workflows NO FORCE ROW LEVEL SECURITY;
      UPDATE workflows SET due_announced_for = next_action_at
       WHERE ${UNANNOUNCED} AND next_action_at <= now();
      ALTER TABLE workflows FORCE ROW LEVEL SECURITY;`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP POLICY worker_timers_expired ON workflows;
      DROP POLICY worker_timers_due ON workflows;
      REVOKE SELECT (tenant_id) ON workflows FROM hydracore_worker;
      CREATE INDEX workflows_expiring ON workflows (tenant_id, expires_at) WHERE ${OPEN};
      DROP INDEX workflows_expiry;
      DROP INDEX workflows_due;
      ALTER TABLE workflows DROP COLUMN due_announced_for;`);
  }
}
