import { MigrationInterface, QueryRunner } from 'typeorm';

const TENANT = `(select nullif(current_setting('app.tenant_id', true), '')::uuid)`;

export class Rules1732406800000 implements MigrationInterface {
  name = 'Rules1732406800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE rules (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        customer_id uuid, -- NULL: a tenant default, inherited by every customer
        instance_id uuid, -- NULL: every instance
        name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
        description text,
        trigger_event text NOT NULL,
        conditions jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(conditions) = 'array'),
        actions jsonb NOT NULL CHECK (jsonb_typeof(actions) = 'array' AND jsonb_array_length(actions) >= 1),
        priority integer NOT NULL DEFAULT 0 CHECK (priority >= 0),
        cooldown_seconds integer NOT NULL DEFAULT 300 CHECK (cooldown_seconds >= 0),
        is_active boolean NOT NULL DEFAULT true,
        rule_key text,
        trigger_count integer NOT NULL DEFAULT 0,
        last_triggered_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, instance_id) REFERENCES instances (tenant_id, id) ON DELETE CASCADE
      );
      CREATE INDEX rules_tenant_recent ON rules (tenant_id, created_at DESC, id DESC);
      CREATE INDEX rules_trigger ON rules (tenant_id, trigger_event) WHERE is_active;
      ALTER TABLE rules ENABLE ROW LEVEL SECURITY;
      ALTER TABLE rules FORCE ROW LEVEL SECURITY;
      CREATE POLICY tenant_isolation ON rules USING (tenant_id = ${TENANT}) WITH CHECK (tenant_id = ${TENANT});
      GRANT SELECT, INSERT, UPDATE, DELETE ON rules TO hydracore_app;`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE rules`);
  }
}
