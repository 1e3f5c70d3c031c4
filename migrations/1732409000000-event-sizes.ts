import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each event keeps the size of its data as text. A page of the log stops at a budget of bytes,
 * and working that budget out from the data itself turned every row a page might reach into
 * text first: with events holding whole workflows, 500 candidates meant 128 MB of text to
 * answer one request. A trigger keeps the size, so no writer (an erasure rewriting `data`, a
 * replica of an older build during a deployment) can leave it wrong. The column is nullable and
 * not backfilled, so adding it rewrites nothing; a page measures a row without a size itself.
 * The lock timeout makes the migration give up, rather than hold every event write behind it,
 * when a long statement is using the table.
 */
export class EventSizes1732409000000 implements MigrationInterface {
  name = 'EventSizes1732409000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      SET LOCAL lock_timeout = '5s';
      ALTER TABLE events ADD COLUMN data_bytes integer;
      CREATE FUNCTION events_data_bytes() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.data_bytes := octet_length(NEW.data::text);
        RETURN NEW;
      END $$;
      CREATE TRIGGER events_data_bytes BEFORE INSERT OR UPDATE OF data ON events
        FOR EACH ROW EXECUTE FUNCTION events_data_bytes();`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER events_data_bytes ON events;
      DROP FUNCTION events_data_bytes();
      ALTER TABLE events DROP COLUMN data_bytes;`);
  }
}
