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
 * The event log. An event is written in the transaction of the change it records, without a
 * feed position; the sequencer gives committed events their tenant's next positions afterwards,
 * one sequencer per tenant at a time. A position is therefore never taken by a transaction that
 * has yet to commit, and a reader paging by position can neither skip nor repeat an event.
 */
export class EventLog1732407500000 implements MigrationInterface {
  name = 'EventLog1732407500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE events (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        -- Insertion order, only to sequence a batch of committed events in a stable order.
        position bigint GENERATED ALWAYS AS IDENTITY,
        -- The tenant's feed position, gap-free from 1; null until the sequencer reaches it.
        sequence bigint,
        type text NOT NULL,
        occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        instance_id uuid,
        customer_id uuid,
        caused_by uuid,
        depth smallint NOT NULL DEFAULT 0,
        data jsonb NOT NULL,
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, sequence)
      );
      CREATE INDEX events_unsequenced ON events (tenant_id, position) WHERE sequence IS NULL;
      ${isolate('events')}

      -- Each tenant's last feed position given, and the last one retention has removed.
      CREATE TABLE event_sequences (
        tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
        last bigint NOT NULL DEFAULT 0,
        purged_through bigint NOT NULL DEFAULT 0
      );
      ${isolate('event_sequences')}

      -- The sequencer's safety sweep finds tenants with events waiting for a position; that is
      -- all hydracore_worker sees of the log.
      GRANT SELECT (tenant_id, sequence) ON events TO hydracore_worker;
      CREATE POLICY worker_unsequenced ON events FOR SELECT TO hydracore_worker
        USING (sequence IS NULL);

      -- Delivered at commit, once per transaction and tenant: wakes the sequencers.
      CREATE FUNCTION events_committed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('hydracore_events', t.tenant_id::text)
           FROM (SELECT DISTINCT tenant_id FROM new_events) t;
        RETURN NULL;
      END $$;
      CREATE TRIGGER events_notify AFTER INSERT ON events
        REFERENCING NEW TABLE AS new_events
        FOR EACH STATEMENT EXECUTE FUNCTION events_committed();`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER events_notify ON events;
      DROP FUNCTION events_committed();
      DROP POLICY worker_unsequenced ON events;
      REVOKE SELECT (tenant_id, sequence) ON events FROM hydracore_worker;
      DROP TABLE event_sequences;
      DROP TABLE events;`);
  }
}
