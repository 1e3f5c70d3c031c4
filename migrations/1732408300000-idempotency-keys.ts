import { MigrationInterface, QueryRunner } from 'typeorm';

// Copied from the earlier migrations rather than shared with them: a landed migration must
// never change, so it depends on nothing a later change could edit.
const TENANT = `(select nullif(current_setting('app.tenant_id', true), '')::uuid)`;

function isolate(table: string): string {
  return `
    ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;
    ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON ${table} USING (tenant_id = ${TENANT}) WITH CHECK (tenant_id = ${TENANT});
    GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO hydracore_app;`;
}

/**
 * Answers of the runtime's creating POSTs sent with an `Idempotency-Key` header, kept a day.
 *
 * A row is claimed (inserted) before the request's work and given its answer in the same
 * transaction: a duplicate arriving meanwhile waits on the uncommitted row, then reads the
 * answer; a request that fails rolls its claim back with its work. `status` and `response` are
 * empty only while the claim is under way, or when its request committed without an answer to
 * keep (an error that keeps its changes): such a row is taken over by the next request.
 * `response` is the JSON text exactly as it was sent. Keys are per instance: another instance
 * using the same key never sees the answer.
 */
export class IdempotencyKeys1732408300000 implements MigrationInterface {
  name = 'IdempotencyKeys1732408300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        instance_id uuid NOT NULL,
        key text NOT NULL CHECK (octet_length(key) BETWEEN 1 AND 255),
        route text NOT NULL,
        request_hash bytea NOT NULL,
        status smallint CHECK (status BETWEEN 200 AND 299),
        response text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, instance_id, key),
        FOREIGN KEY (tenant_id, instance_id) REFERENCES instances (tenant_id, id) ON DELETE CASCADE
      );
      CREATE INDEX idempotency_keys_age ON idempotency_keys (tenant_id, instance_id, created_at);
      ${isolate('idempotency_keys')}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys;`);
  }
}
