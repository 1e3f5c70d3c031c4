import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A delivery claim and the look for tenants with deliveries due read only the rows they need,
 * however many deliveries a tenant has queued. Before, a replay of 10,000 events per call on
 * each of 50 endpoints left hundreds of thousands pending, and every claim paid for them:
 *
 * - The claim counts each endpoint's attempts under way (leased rows). Through the index of
 *   pending rows that read every pending row of the endpoint to find its few leased ones.
 *   `webhook_deliveries_leased` holds only leased pending rows: those under way, and those a
 *   stopped replica left, until they are claimed again.
 * - The claim then takes the oldest due rows in (next_attempt_at, created_at) order. With only
 *   next_attempt_at in the index, a replay's rows (one now() for all) were one group the sort
 *   had to read whole before it could return the first; `webhook_deliveries_claimable` has
 *   both, so the claim reads what it takes, plus the leased rows it steps over.
 * - The look across tenants walked every due row to find their distinct tenants. It now hops
 *   from one tenant to the next and probes each for its earliest due row, which an index led by
 *   the tenant answers (`webhook_deliveries_due_tenants`); one led by the time cannot.
 *
 * The price: a claim now changes an indexed column, so its update is no longer HOT.
 * CREATE INDEX blocks writes to the table while it builds (a migration runs in a transaction,
 * which CONCURRENTLY cannot): seconds for a few million rows.
 */
export class WebhookBacklogIndexes1732409200000 implements MigrationInterface {
  name = 'WebhookBacklogIndexes1732409200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      SET LOCAL lock_timeout = '5s';
      CREATE INDEX webhook_deliveries_leased
        ON webhook_deliveries (tenant_id, endpoint_id, leased_until)
        WHERE status = 'pending' AND leased_until IS NOT NULL;
      CREATE INDEX webhook_deliveries_claimable
        ON webhook_deliveries (tenant_id, endpoint_id, next_attempt_at, created_at)
        WHERE status = 'pending';
      DROP INDEX webhook_deliveries_pending;
      CREATE INDEX webhook_deliveries_due_tenants
        ON webhook_deliveries (tenant_id, next_attempt_at)
        WHERE status = 'pending';
      DROP INDEX webhook_deliveries_due;`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      SET LOCAL lock_timeout = '5s';
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
        WHERE status = 'pending';
      DROP INDEX webhook_deliveries_due_tenants;
      CREATE INDEX webhook_deliveries_pending
        ON webhook_deliveries (tenant_id, endpoint_id, next_attempt_at)
        WHERE status = 'pending';
      DROP INDEX webhook_deliveries_claimable;
      DROP INDEX webhook_deliveries_leased;`);
  }
}
