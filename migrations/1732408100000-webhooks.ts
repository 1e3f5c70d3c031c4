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
 * Webhook endpoints: tenant admins' URLs that receive the tenant's events, signed.
 *
 * `webhook_endpoints` keeps each endpoint's secrets sealed (AES-256-GCM, bound to the row), the
 * previous one for a day after a rotation.
 *
 * `webhook_deliveries` is one row per event and endpoint: created by the fan-out, which follows
 * the feed with a per-tenant cursor in `webhook_fanout_cursors` (as the rule evaluator does), and
 * worked by every replica's dispatcher. `leased_until` is the claim of an attempt under way: no
 * other replica attempts the delivery before it passes, and it outlasts the attempt's timeout.
 * A delivery goes with its endpoint and with its event (retention).
 *
 * Every replica looks across tenants, as hydracore_worker, for deliveries that are due: that role
 * sees their tenant, status and times and nothing else.
 */
export class Webhooks1732408100000 implements MigrationInterface {
  name = 'Webhooks1732408100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_endpoints (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        url text NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2048),
        event_types text[] NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 50),
        instance_id uuid,
        description text CHECK (char_length(description) <= 500),
        status text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
        sealed_secret bytea NOT NULL,
        previous_sealed_secret bytea,
        previous_secret_until timestamptz,
        failing_since timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, instance_id) REFERENCES instances (tenant_id, id) ON DELETE CASCADE
      );
      CREATE INDEX webhook_endpoints_created ON webhook_endpoints (tenant_id, created_at, id);

      CREATE TABLE webhook_deliveries (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        endpoint_id uuid NOT NULL,
        event_id uuid NOT NULL,
        event_type text NOT NULL,
        status text NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'succeeded', 'failed')),
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        next_attempt_at timestamptz,
        leased_until timestamptz,
        last_attempt_at timestamptz,
        last_response_status smallint,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, endpoint_id, event_id),
        FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id)
          ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, event_id) REFERENCES events (tenant_id, id) ON DELETE CASCADE
      );
      CREATE INDEX webhook_deliveries_console
        ON webhook_deliveries (tenant_id, endpoint_id, created_at DESC, id DESC);
      CREATE INDEX webhook_deliveries_event ON webhook_deliveries (tenant_id, event_id);
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
        WHERE status = 'pending';
      CREATE INDEX webhook_deliveries_pending
        ON webhook_deliveries (tenant_id, endpoint_id, next_attempt_at)
        WHERE status = 'pending';

      CREATE TABLE webhook_fanout_cursors (
        tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
        fanned_out_through bigint NOT NULL DEFAULT 0 CHECK (fanned_out_through >= 0)
      );`);

    // Events from before webhooks existed have no endpoint to go to: each tenant's cursor starts
    // at its feed's end. The owner lifts FORCE for this statement only, inside this migration.
    await q.query(`
      ALTER TABLE event_sequences NO FORCE ROW LEVEL SECURITY;
      INSERT INTO webhook_fanout_cursors (tenant_id, fanned_out_through)
        SELECT tenant_id, last FROM event_sequences;
      ALTER TABLE event_sequences FORCE ROW LEVEL SECURITY;`);

    await q.query(`
      ${isolate('webhook_endpoints')}
      ${isolate('webhook_deliveries')}
      ${isolate('webhook_fanout_cursors')}

      GRANT SELECT (tenant_id, status, next_attempt_at, leased_until) ON webhook_deliveries
        TO hydracore_worker;
      CREATE POLICY worker_deliveries_due ON webhook_deliveries FOR SELECT
        TO hydracore_worker USING (true);
      GRANT SELECT (tenant_id, fanned_out_through) ON webhook_fanout_cursors TO hydracore_worker;
      CREATE POLICY worker_fanout_behind ON webhook_fanout_cursors FOR SELECT
        TO hydracore_worker USING (true);`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE webhook_fanout_cursors;
      DROP TABLE webhook_deliveries;
      DROP TABLE webhook_endpoints;`);
  }
}
