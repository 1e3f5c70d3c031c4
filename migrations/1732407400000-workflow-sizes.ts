import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a workflow weighs as the API sends it: its JSON documents' text, kept by PostgreSQL on
 * every write. A page of the list reads these first and refuses a page too large to send
 * (or to hold in memory) before any document is read.
 */
export class WorkflowSizes1732407400000 implements MigrationInterface {
  name = 'WorkflowSizes1732407400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE workflows ADD COLUMN document_bytes integer GENERATED ALWAYS AS (
        octet_length(workflow_state::text) + octet_length(history::text)
          + coalesce(octet_length(suspended_payload::text), 0)) STORED`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE workflows DROP COLUMN document_bytes`);
  }
}
