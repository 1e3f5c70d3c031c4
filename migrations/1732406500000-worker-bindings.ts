import { MigrationInterface, QueryRunner } from 'typeorm';

const TENANT = `(select nullif(current_setting('app.tenant_id', true), '')::uuid)`;

export class WorkerBindings1732406500000 implements MigrationInterface {
  name = 'WorkerBindings1732406500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE worker_bindings (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        customer_id uuid NOT NULL,
        person_id uuid NOT NULL,
        instance_id uuid,
        channel_type text NOT NULL CHECK (channel_type IN ('whatsapp', 'sms', 'voice', 'telegram', 'email')),
        channel_address text NOT NULL CHECK (char_length(channel_address) BETWEEN 1 AND 255),
        status text NOT NULL DEFAULT 'unverified' CHECK (status IN ('unverified', 'verified', 'revoked')),
        verified_at timestamptz,
        revoked_at timestamptz,
        previous_binding_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        CHECK ((status = 'revoked') = (revoked_at IS NOT NULL)),
        CHECK (status <> 'verified' OR verified_at IS NOT NULL),
        -- the person must be a person of this customer, in this tenant
        FOREIGN KEY (tenant_id, customer_id, person_id)
          REFERENCES persons (tenant_id, customer_id, id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, instance_id)
          REFERENCES instances (tenant_id, id) ON DELETE SET NULL (instance_id),
        FOREIGN KEY (tenant_id, previous_binding_id) REFERENCES worker_bindings (tenant_id, id)
      );
      -- At most one live binding per address: the database settles concurrent creates and rebinds.
      CREATE UNIQUE INDEX worker_bindings_live_address
        ON worker_bindings (tenant_id, channel_type, channel_address) WHERE status <> 'revoked';
      CREATE INDEX worker_bindings_customer
        ON worker_bindings (tenant_id, customer_id, created_at DESC, id DESC);
      ALTER TABLE worker_bindings ENABLE ROW LEVEL SECURITY;
      ALTER TABLE worker_bindings FORCE ROW LEVEL SECURITY;
      CREATE POLICY tenant_isolation ON worker_bindings
        USING (tenant_id = ${TENANT}) WITH CHECK (tenant_id = ${TENANT});
      GRANT SELECT, INSERT, UPDATE, DELETE ON worker_bindings TO hydracore_app;`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE worker_bindings`);
  }
}
