import { MigrationInterface, QueryRunner } from 'typeorm';

const TENANT = `(select nullif(current_setting('app.tenant_id', true), '')::uuid)`;

export class ChannelEndpoints1732406600000 implements MigrationInterface {
  name = 'ChannelEndpoints1732406600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE channel_endpoints (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        instance_id uuid NOT NULL,
        channel_type text NOT NULL
          CHECK (channel_type IN ('telegram', 'whatsapp', 'voice', 'sms', 'email', 'web_chat')),
        provider text NOT NULL CHECK (char_length(provider) BETWEEN 1 AND 50),
        external_identifier text NOT NULL CHECK (char_length(external_identifier) BETWEEN 1 AND 255),
        config jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
        connection_id uuid,
        credential_id uuid,
        enabled boolean NOT NULL DEFAULT true,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'error', 'disabled')),
        error_message text,
        last_event_at timestamptz,
        webhook_secret bytea, -- AES-256-GCM, see src/common/secret-box.ts
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, instance_id) REFERENCES instances (tenant_id, id) ON DELETE CASCADE
      );
      -- Inbound webhooks are routed by this key, so it is unique across the whole platform: the
      -- one index on a tenant table that does not lead with tenant_id, by design.
      CREATE UNIQUE INDEX channel_endpoints_routing_key
        ON channel_endpoints (channel_type, provider, external_identifier);
      CREATE INDEX channel_endpoints_instance
        ON channel_endpoints (tenant_id, instance_id, created_at DESC, id DESC);
      ALTER TABLE channel_endpoints ENABLE ROW LEVEL SECURITY;
      ALTER TABLE channel_endpoints FORCE ROW LEVEL SECURITY;
      CREATE POLICY tenant_isolation ON channel_endpoints
        USING (tenant_id = ${TENANT}) WITH CHECK (tenant_id = ${TENANT});
      GRANT SELECT, INSERT, UPDATE, DELETE ON channel_endpoints TO hydracore_app;`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE channel_endpoints`);
  }
}
