import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `event_types` is now `["*"]` or a list of types, not both. Endpoints stored with both were
 * delivered every type already; they are written as `["*"]`, so a client that sends back what it
 * read is not refused. Nothing to undo: the two spellings deliver the same. The owner lifts FORCE
 * for this statement only, inside this migration's transaction, to reach every tenant's rows.
 */
export class WebhookTypesAllAlone1732408900000 implements MigrationInterface {
  name = 'WebhookTypesAllAlone1732408900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE webhook_endpoints NO FORCE ROW LEVEL SECURITY;
      UPDATE webhook_endpoints SET event_types = '{*}'
       WHERE '*' = ANY (event_types) AND cardinality(event_types) > 1;
      ALTER TABLE webhook_endpoints FORCE ROW LEVEL SECURITY;`);
  }

  async down(): Promise<void> {
    // The endpoints were delivered every type before and after: no spelling to restore.
  }
}
