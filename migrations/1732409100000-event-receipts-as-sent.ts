import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An event receipt's answer is also kept as the text that was sent (`answer`, json): `response`
 * is jsonb, which reorders keys, and a replay of an `idempotency_key` should be the first answer
 * byte for byte, as a replay by the `Idempotency-Key` header already is. A column of its own
 * rather than a change of type: that would rewrite a table that only grows, under a lock every
 * event with a key waits for. `response` is still written, for replicas of the build before
 * during a deployment; answers stored before have no `answer` and keep jsonb's order.
 */
export class EventReceiptsAsSent1732409100000 implements MigrationInterface {
  name = 'EventReceiptsAsSent1732409100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      SET LOCAL lock_timeout = '5s';
      ALTER TABLE event_receipts ADD COLUMN answer json;`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE event_receipts DROP COLUMN answer`);
  }
}
