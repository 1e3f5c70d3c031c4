import { MigrationInterface, QueryRunner } from 'typeorm';

// Copied from the earlier migrations rather than shared with them: a landed migration must
// never change, so it depends on nothing a later change could edit.
const TENANT = `(select nullif(current_setting('app.tenant_id', true), '')::uuid)`;

/** As earlier migrations' isolate(), but the runtime role may only add and read rows. */
function isolateAppendOnly(table: string): string {
  return `
    ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;
    ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON ${table} USING (tenant_id = ${TENANT}) WITH CHECK (tenant_id = ${TENANT});
    GRANT SELECT, INSERT ON ${table} TO hydracore_app;`;
}

/**
 * The audit log: one row per write a tenant admin or the platform made through the API, written
 * in the transaction of the write itself.
 *
 * Append-only in two ways. The runtime role is granted SELECT and INSERT and nothing else, so no
 * request can change or remove an entry. A trigger refuses UPDATE to every role, the owner
 * included: no entry ever needs correcting. DELETE stays possible for the owner alone (not the
 * runtime role), because removing a tenant cascades to its entries and an operator may purge old
 * entries by hand; a trigger refusing it would make a tenant impossible to remove.
 *
 * `tenant_id` defaults to the transaction's tenant: an entry belongs to the tenant whose change
 * it records, and the policy refuses any other anyway.
 *
 * `seq` orders the log: taken at insert, so the entries of one transaction keep the order they
 * were written in. It is never shown (it counts every tenant's entries); clients page by id.
 */
export class AuditLog1732408500000 implements MigrationInterface {
  name = 'AuditLog1732408500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_log (
        tenant_id uuid NOT NULL DEFAULT nullif(current_setting('app.tenant_id', true), '')::uuid
          REFERENCES tenants (id) ON DELETE CASCADE,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        seq bigint GENERATED ALWAYS AS IDENTITY,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'api_key', 'platform')),
        actor_id text CHECK (char_length(actor_id) <= 500),
        action text NOT NULL CHECK (char_length(action) BETWEEN 1 AND 100),
        target_type text NOT NULL CHECK (char_length(target_type) BETWEEN 1 AND 100),
        target_id uuid NOT NULL,
        request_id text CHECK (char_length(request_id) <= 200),
        changes jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(changes) = 'object'),
        PRIMARY KEY (tenant_id, id)
      );
      CREATE UNIQUE INDEX audit_log_order ON audit_log (tenant_id, seq);
      CREATE INDEX audit_log_target ON audit_log (tenant_id, target_id, seq);
      CREATE INDEX audit_log_action ON audit_log (tenant_id, action, seq);

      CREATE FUNCTION audit_log_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
        END $$;
      CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_update();
      ${isolateAppendOnly('audit_log')}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE audit_log;
      DROP FUNCTION audit_log_refuse_update();`);
  }
}
