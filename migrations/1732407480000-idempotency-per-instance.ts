import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An event's idempotency key belongs to the instance that sent it. The stored answer names
 * workflows and approvals of the instance that asked; under a tenant-wide key another instance
 * re-using the same key got that answer, and workflows it cannot read.
 */
export class IdempotencyPerInstance1732407480000 implements MigrationInterface {
  name = 'IdempotencyPerInstance1732407480000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE event_receipts ADD COLUMN instance_id uuid;
      -- Whose a stored answer was shows in what it created; one that created nothing cannot be
      -- given to any instance safely, and a retry of it is processed afresh.
      UPDATE event_receipts
         SET instance_id = COALESCE(response #>> '{workflows,0,instance_id}',
                                    response #>> '{approvals,0,instance_id}')::uuid;
      DELETE FROM event_receipts r
       WHERE r.instance_id IS NULL
          OR NOT EXISTS (SELECT 1 FROM instances i WHERE i.tenant_id = r.tenant_id AND i.id = r.instance_id);
      ALTER TABLE event_receipts
        ALTER COLUMN instance_id SET NOT NULL,
        DROP CONSTRAINT event_receipts_pkey,
        ADD PRIMARY KEY (tenant_id, instance_id, idempotency_key),
        ADD FOREIGN KEY (tenant_id, instance_id) REFERENCES instances (tenant_id, id) ON DELETE CASCADE;`);
  }

  /** Back to keys per tenant: where instances shared a key, the earliest use keeps it. */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DELETE FROM event_receipts a
       WHERE EXISTS (
         SELECT 1 FROM event_receipts b
          WHERE b.tenant_id = a.tenant_id AND b.idempotency_key = a.idempotency_key
            AND (b.created_at, b.instance_id) < (a.created_at, a.instance_id));
      ALTER TABLE event_receipts DROP CONSTRAINT event_receipts_pkey;
      ALTER TABLE event_receipts DROP COLUMN instance_id;
      ALTER TABLE event_receipts ADD PRIMARY KEY (tenant_id, idempotency_key);`);
  }
}
