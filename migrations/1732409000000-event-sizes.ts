import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each event keeps the size of its data as text. A page of the log stops at a budget of bytes,
 * and working that budget out from the data itself turned every row a page might reach into
 * text first: with events holding whole workflows, 500 candidates meant 128 MB of text to
 * answer one request. The column is nullable and not backfilled, so adding it rewrites nothing;
 * a page works out the size of a row without one, as before.
 */
export class EventSizes1732409000000 implements MigrationInterface {
  name = 'EventSizes1732409000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE events ADD COLUMN data_bytes integer`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE events DROP COLUMN data_bytes`);
  }
}
