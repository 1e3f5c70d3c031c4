import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The workflow list's status and type filters, newest first, by index. Without them a filter
 * matching few rows, or none, walked every workflow of the tenant in creation order: 65 ms a
 * request at 133,000 workflows, and a tenant's five connections of such requests took most of
 * the database's CPU from the others. Each costs every workflow insert one index entry more,
 * and a status change one more (measured with the create-and-advance scenario: see
 * BENCHMARKS.md). The lock timeout makes the migration give up rather than hold every workflow
 * write behind the index builds while a long statement uses the table.
 */
export class WorkflowFilterIndexes1732409600000 implements MigrationInterface {
  name = 'WorkflowFilterIndexes1732409600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      SET LOCAL lock_timeout = '5s';
      CREATE INDEX workflows_status_recent
        ON workflows (tenant_id, status, created_at DESC, id DESC);
      CREATE INDEX workflows_type_recent
        ON workflows (tenant_id, workflow_type, created_at DESC, id DESC);`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX workflows_type_recent; DROP INDEX workflows_status_recent;`);
  }
}
