import { MigrationInterface, QueryRunner } from 'typeorm';

// Copied from the earlier migrations rather than shared with them: a landed migration must
// never change, so it depends on nothing a later change could edit.
const TENANT = `(select nullif(current_setting('app.tenant_id', true), '')::uuid)`;

function isolate(table: string): string {
  return `
    ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;
    ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON ${table} USING (tenant_id = ${TENANT}) WITH CHECK (tenant_id = ${TENANT});
    GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO hydracore_app;`;
}

/**
 * Rules fire on the events HydraCore raises (workflow and approval changes), each event once.
 *
 * `event_evaluation_cursors` holds, per tenant, the feed position through which its raised
 * events have been evaluated. A pass locks its tenant's row (FOR UPDATE SKIP LOCKED: a replica
 * that finds it taken leaves the tenant to the holder), evaluates the events after it and
 * advances it in the same transaction as the evaluations and everything the fired rules' actions
 * did: a crash repeats a whole batch or nothing, and no event is evaluated twice.
 *
 * `events_evaluated_on_receipt` names the events a runtime POSTed under a type HydraCore also
 * raises: their rules ran when they were received, so the pass passes over them. A row is
 * written only for such an event and removed when the pass reaches it.
 *
 * Every replica also looks every few seconds, as hydracore_worker, for tenants whose cursor is
 * behind their feed (a wake lost while a listener reconnected): that role sees each tenant's
 * cursor and feed end, and nothing else of either table.
 */
export class EventEvaluation1732408000000 implements MigrationInterface {
  name = 'EventEvaluation1732408000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE event_evaluation_cursors (
        tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
        evaluated_through bigint NOT NULL DEFAULT 0 CHECK (evaluated_through >= 0)
      );
      CREATE TABLE events_evaluated_on_receipt (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        event_id uuid NOT NULL,
        PRIMARY KEY (tenant_id, event_id)
      );`);

    // Events raised before rules fired on them are history, not news: a tenant's cursor starts
    // at its feed's end, or the first pass would fire every rule on the whole past at once. The
    // owner lifts FORCE for this statement only, inside this migration's transaction.
    await q.query(`
      ALTER TABLE event_sequences NO FORCE ROW LEVEL SECURITY;
      INSERT INTO event_evaluation_cursors (tenant_id, evaluated_through)
        SELECT tenant_id, last FROM event_sequences;
      ALTER TABLE event_sequences FORCE ROW LEVEL SECURITY;`);

    await q.query(`
      ${isolate('event_evaluation_cursors')}
      ${isolate('events_evaluated_on_receipt')}

      GRANT SELECT (tenant_id, evaluated_through) ON event_evaluation_cursors TO hydracore_worker;
      CREATE POLICY worker_evaluation_behind ON event_evaluation_cursors FOR SELECT
        TO hydracore_worker USING (true);
      GRANT SELECT (tenant_id, last) ON event_sequences TO hydracore_worker;
      CREATE POLICY worker_evaluation_behind ON event_sequences FOR SELECT
        TO hydracore_worker USING (true);`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP POLICY worker_evaluation_behind ON event_sequences;
      REVOKE SELECT (tenant_id, last) ON event_sequences FROM hydracore_worker;
      DROP TABLE events_evaluated_on_receipt;
      DROP TABLE event_evaluation_cursors;`);
  }
}
