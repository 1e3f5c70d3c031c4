import { MigrationInterface, QueryRunner } from 'typeorm';

const EXPIRED = `status = 'pending' AND expires_at <= now()`;

/**
 * Approval expiry within seconds of expires_at. Every replica looks once a second, across all
 * tenants, as hydracore_worker, for the tenants with pending approvals past expires_at; each
 * such tenant's approvals are then expired in its own RLS transaction (FOR UPDATE SKIP LOCKED),
 * with their events. The policy shows that role the tenant id of such an approval and nothing
 * else of any row. The look reads the partial index of pending approvals only (led by the
 * tenant, as every tenant table's index is), never the approvals long resolved: pending ones
 * expire within a week, so it stays small (20,000 pending: about a millisecond).
 */
export class ApprovalExpiryTimer1732407700000 implements MigrationInterface {
  name = 'ApprovalExpiryTimer1732407700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX approvals_expiry ON approvals (tenant_id, expires_at) WHERE status = 'pending';
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
