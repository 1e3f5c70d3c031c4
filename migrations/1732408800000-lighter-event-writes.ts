import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Three checks every event paid for on its way in, each measured under the benchmark's load
 * (scenarios 3 and 4, BENCHMARKS.md):
 *
 * - `events` and `rule_evaluated_events` no longer reference `tenants`. The key's check locks
 *   the tenant's one row (FOR KEY SHARE) on every insert; with a tenant's requests writing at
 *   once, that lock is shared by many transactions, so each insert rebuilds the row's
 *   multixact and logs the lock. Tenants are never deleted (their lifecycle is a status), so
 *   the cascade never ran, and row-level security already keeps `tenant_id` to the
 *   transaction's tenant.
 * - `rule_evaluations` no longer references `rule_evaluated_events`. Its rows are inserted in
 *   the same statement as their facts row, and the check of each locked that new row, on the
 *   page every concurrent writer was appending to: about 0.24 ms a rule row. Retention deletes
 *   both in one statement instead of by cascade.
 * - The feed's position is unique among numbered events only: an event is inserted without a
 *   position, and the index entry it made for its null served nothing.
 */
export class LighterEventWrites1732408800000 implements MigrationInterface {
  name = 'LighterEventWrites1732408800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE events DROP CONSTRAINT events_tenant_id_fkey;
      ALTER TABLE rule_evaluated_events DROP CONSTRAINT rule_evaluated_events_tenant_id_fkey;
      ALTER TABLE rule_evaluations DROP CONSTRAINT rule_evaluations_tenant_id_event_id_fkey;
      ALTER TABLE events DROP CONSTRAINT events_tenant_id_sequence_key;
      CREATE UNIQUE INDEX events_tenant_id_sequence_key ON events (tenant_id, sequence)
        WHERE sequence IS NOT NULL;`);
  }

  /**
   * The keys come back, so first goes what they would refuse: rows of a tenant removed by hand
   * since the up (the cascade no longer ran), and rule rows without their facts. The owner lifts
   * FORCE for these statements only, inside this migration's transaction, to see every tenant.
   */
  async down(q: QueryRunner): Promise<void> {
    const tables = ['tenants', 'events', 'rule_evaluated_events', 'rule_evaluations'];
    await q.query(`
      ${tables.map((table) => `ALTER TABLE ${table} NO FORCE ROW LEVEL SECURITY;`).join('\n')}
      DELETE FROM events e WHERE NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = e.tenant_id);
      DELETE FROM rule_evaluated_events f
       WHERE NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = f.tenant_id);
      DELETE FROM rule_evaluations r
       WHERE NOT EXISTS (SELECT 1 FROM rule_evaluated_events f
                          WHERE f.tenant_id = r.tenant_id AND f.event_id = r.event_id);
      ${tables.map((table) => `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;`).join('\n')}
      DROP INDEX events_tenant_id_sequence_key;
      ALTER TABLE events ADD CONSTRAINT events_tenant_id_sequence_key UNIQUE (tenant_id, sequence);
      ALTER TABLE rule_evaluations ADD CONSTRAINT rule_evaluations_tenant_id_event_id_fkey
        FOREIGN KEY (tenant_id, event_id)
        REFERENCES rule_evaluated_events (tenant_id, event_id) ON DELETE CASCADE;
      ALTER TABLE rule_evaluated_events ADD CONSTRAINT rule_evaluated_events_tenant_id_fkey
        FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;
      ALTER TABLE events ADD CONSTRAINT events_tenant_id_fkey
        FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;`);
  }
}
