import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The cross-tenant look for expired approvals, once a second, read approvals_expiry, which the
 * tenant leads: with only expires_at to go on it walked every pending approval of every tenant,
 * and a tenant may keep hundreds of thousands pending for a week. With the time leading, as in
 * workflows_expiry, it reads only those whose time has come. approvals_expiry stays for the
 * claim of one tenant's expired approvals.
 */
export class ApprovalExpiryByTime1732409500000 implements MigrationInterface {
  name = 'ApprovalExpiryByTime1732409500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX approvals_expired ON approvals (expires_at, tenant_id) WHERE status = 'pending';`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX approvals_expired;`);
  }
}
