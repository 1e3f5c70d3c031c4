import { MigrationInterface, QueryRunner } from 'typeorm';

const TENANT = `(select nullif(current_setting('app.tenant_id', true), '')::uuid)`;
const OPEN = `('active', 'awaiting_approval', 'paused', 'suspended')`;

export class Workflows1732406700000 implements MigrationInterface {
  name = 'Workflows1732406700000';

  async up(q: QueryRunner): Promise<void> {
    // Background jobs (expiry sweeps, outbox relays) must find which tenants have work without a
    // way around RLS: hydracore_worker may read tenant ids and nothing else outside a tenant
    // context; each tenant's work then runs in that tenant's own RLS transaction.
    await q.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hydracore_worker') THEN
          CREATE ROLE hydracore_worker NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
        END IF;
      END $$;
      GRANT hydracore_worker TO CURRENT_USER;
      GRANT USAGE ON SCHEMA public TO hydracore_worker;
      GRANT SELECT (id) ON tenants TO hydracore_worker;
      CREATE POLICY worker_tenant_scan ON tenants FOR SELECT TO hydracore_worker USING (true);`);

    await q.query(`
      CREATE TABLE workflows (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        instance_id uuid NOT NULL,
        customer_id uuid NOT NULL,
        workflow_type text NOT NULL CHECK (workflow_type IN ('lead', 'rent_arrears', 'maintenance',
          'compliance_renewal', 'viewing', 'roster', 'approval', 'invoice_chase', 'onboarding', 'custom')),
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'awaiting_approval', 'paused',
          'suspended', 'completed', 'expired', 'cancelled', 'failed')),
        stage text,
        title text,
        reference text,
        assigned_to text,
        approver_id uuid,
        escalation_level integer NOT NULL DEFAULT 0 CHECK (escalation_level >= 0),
        workflow_state jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(workflow_state) = 'object'),
        -- append-only audit trail: every change adds one entry, none is ever rewritten
        history jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(history) = 'array'),
        expires_at timestamptz,
        next_action_at timestamptz,
        last_action_at timestamptz,
        completed_at timestamptz,
        suspended_step text,
        suspended_payload jsonb,
        suspended_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        CHECK ((status = 'suspended') = (suspended_at IS NOT NULL)),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, instance_id) REFERENCES instances (tenant_id, id) ON DELETE CASCADE
      );
      -- Pages are newest first with id as the tie-breaker, so pages are stable.
      CREATE INDEX workflows_tenant_recent ON workflows (tenant_id, created_at DESC, id DESC);
      CREATE INDEX workflows_instance_recent ON workflows (tenant_id, instance_id, created_at DESC, id DESC);
      CREATE INDEX workflows_customer_recent ON workflows (tenant_id, customer_id, created_at DESC, id DESC);
      CREATE INDEX workflows_suspended ON workflows (tenant_id, created_at DESC, id DESC) WHERE status = 'suspended';
      CREATE INDEX workflows_expiring ON workflows (tenant_id, expires_at) WHERE status IN ${OPEN};
      ALTER TABLE workflows ENABLE ROW LEVEL SECURITY;
      ALTER TABLE workflows FORCE ROW LEVEL SECURITY;
      CREATE POLICY tenant_isolation ON workflows
        USING (tenant_id = ${TENANT}) WITH CHECK (tenant_id = ${TENANT});
      GRANT SELECT, INSERT, UPDATE, DELETE ON workflows TO hydracore_app;`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE workflows;
      DROP POLICY worker_tenant_scan ON tenants;
      REVOKE SELECT (id) ON tenants FROM hydracore_worker;
      REVOKE USAGE ON SCHEMA public FROM hydracore_worker;`);
  }
}
