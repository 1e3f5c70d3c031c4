import { MigrationInterface, QueryRunner } from 'typeorm';

const TENANT = `(select nullif(current_setting('app.tenant_id', true), '')::uuid)`;

function isolate(table: string): string {
  return `
    ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;
    ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON ${table} USING (tenant_id = ${TENANT}) WITH CHECK (tenant_id = ${TENANT});
    GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO hydracore_app;`;
}

export class RuleFiring1732407000000 implements MigrationInterface {
  name = 'RuleFiring1732407000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      -- When each rule last fired for each customer: the cooldown is claimed on this row.
      CREATE TABLE rule_cooldowns (
        tenant_id uuid NOT NULL,
        rule_id uuid NOT NULL,
        customer_id uuid NOT NULL,
        last_fired_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, rule_id, customer_id),
        FOREIGN KEY (tenant_id, rule_id) REFERENCES rules (tenant_id, id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
      );
      ${isolate('rule_cooldowns')}

      -- The first answer to each idempotency key of an event.
      CREATE TABLE event_receipts (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        idempotency_key text NOT NULL,
        request_hash text NOT NULL,
        response jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, idempotency_key)
      );
      ${isolate('event_receipts')}

      -- Bumped on every change to a tenant's rules; replicas compare it with their cache.
      CREATE TABLE rule_versions (
        tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
        version bigint NOT NULL
      );
      ${isolate('rule_versions')}

      CREATE FUNCTION bump_rule_version() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO rule_versions (tenant_id, version) VALUES (COALESCE(NEW.tenant_id, OLD.tenant_id), 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = rule_versions.version + 1;
        RETURN NULL;
      END $$;
      -- Firing updates only trigger_count and last_triggered_at, which leave the cache valid.
      CREATE TRIGGER rules_bump_version
        AFTER INSERT OR DELETE OR UPDATE OF customer_id, instance_id, name, description, trigger_event,
          conditions, actions, priority, cooldown_seconds, is_active, rule_key
        ON rules FOR EACH ROW EXECUTE FUNCTION bump_rule_version();`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER rules_bump_version ON rules;
      DROP FUNCTION bump_rule_version();
      DROP TABLE rule_versions;
      DROP TABLE event_receipts;
      DROP TABLE rule_cooldowns;`);
  }
}
