import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The sequencer is now told of committed events by the replica that committed them, after the
 * commit. The trigger's NOTIFY took PostgreSQL's notification queue lock at every commit that
 * wrote an event, which serialised those commits across all tenants.
 */
export class EventsWakeAfterCommit1732408600000 implements MigrationInterface {
  name = 'EventsWakeAfterCommit1732408600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER events_notify ON events;
      DROP FUNCTION events_committed();`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
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
}
