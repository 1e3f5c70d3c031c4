import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GET /metrics reports the outbox's backlog across tenants, read as hydracore_worker as the
 * webhook backlog is: that role may count pending messages and sees nothing else of them (no
 * tenant, payload or receiver).
 */
export class OutboxBacklogMetric1732408700000 implements MigrationInterface {
  name = 'OutboxBacklogMetric1732408700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      GRANT SELECT (status) ON outbox TO hydracore_worker;
      CREATE POLICY worker_backlog ON outbox FOR SELECT TO hydracore_worker
        USING (status = 'pending');`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP POLICY worker_backlog ON outbox;
      REVOKE SELECT (status) ON outbox FROM hydracore_worker;`);
  }
}
