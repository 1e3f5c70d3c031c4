import { MigrationInterface, QueryRunner } from 'typeorm';

const EXPIRED = `status = 'pending' AND expires_at <= now()`;

/**
 * Approval expiry within seconds of expires_at. Every replica looks once a second, across all
 * tenants, as hydracore_worker, for the tenants with pending approvals past expires_at; each
 * such tenant's approvals are then expired in its own RLS transaction (FOR UPDATE SKIP LOCKED),
 * with their events. The policy shows that role the tenant id of such an approval and nothing
 * else of any row; the partial index makes the look one short index scan whatever the number
 * of tenants and approvals.
 */
export class ApprovalExpiryTimer1732407700000 implements MigrationInterface {
  name = 'ApprovalExpiryTimer1732407700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX approvals_expiry ON approvals (expires_at, tenant_id) WHERE status = 'pending';
      GRANT SELECT (tenant_id) ON approvals TO hydracore_worker;
      CREATE POLICY worker_timers_expired ON approvals FOR SELECT TO hydracore_worker
        USING (${EXPIRED});`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP POLICY worker_timers_expired ON approvals;
      REVOKE SELECT (tenant_id) ON approvals FROM hydracore_worker;
      DROP INDEX approvals_expiry;`);
  }
}
