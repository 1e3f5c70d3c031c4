import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An event receipt's answer is kept as the text that was sent (`json`), not as `jsonb`, which
 * reorders keys: a replay of an `idempotency_key` is then the first answer byte for byte, as a
 * replay by the `Idempotency-Key` header already is. Answers stored before keep jsonb's order.
 */
export class EventReceiptsAsSent1732409100000 implements MigrationInterface {
  name = 'EventReceiptsAsSent1732409100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE event_receipts ALTER COLUMN response TYPE json USING response::json`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE event_receipts ALTER COLUMN response TYPE jsonb USING response::jsonb`,
    );
  }
}
