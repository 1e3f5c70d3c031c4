import { MigrationInterface, QueryRunner } from 'typeorm';

const TENANT = `(select nullif(current_setting('app.tenant_id', true), '')::uuid)`;

function isolate(table: string): string {
  return `
    ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;
    ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON ${table} USING (tenant_id = ${TENANT}) WITH CHECK (tenant_id = ${TENANT});
    GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO hydracore_app;`;
}

export class ApprovalsOutbox1732406900000 implements MigrationInterface {
  name = 'ApprovalsOutbox1732406900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE approvals (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        approval_ref text NOT NULL CHECK (approval_ref ~ '^APR-[A-HJ-NP-Z2-9]+$'),
        customer_id uuid NOT NULL,
        instance_id uuid,
        rule_id uuid,
        skill_slug text NOT NULL CHECK (char_length(skill_slug) BETWEEN 1 AND 100),
        action text NOT NULL CHECK (char_length(action) BETWEEN 1 AND 100),
        serialized_intent jsonb NOT NULL CHECK (jsonb_typeof(serialized_intent) = 'object'),
        intent_hash text NOT NULL,
        approver_role text NOT NULL CHECK (approver_role IN ('owner', 'customer')),
        approver_person_id uuid,
        notify_channel text,
        idempotency_key text,
        request_hash text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
        expires_at timestamptz NOT NULL,
        resolved_at timestamptz,
        resolved_by text,
        resolver_role text,
        resolver_person_id uuid,
        resolution_channel text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, approval_ref),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, instance_id) REFERENCES instances (tenant_id, id) ON DELETE SET NULL (instance_id),
        FOREIGN KEY (tenant_id, rule_id) REFERENCES rules (tenant_id, id) ON DELETE SET NULL (rule_id),
        FOREIGN KEY (tenant_id, approver_person_id) REFERENCES persons (tenant_id, id) ON DELETE SET NULL (approver_person_id)
      );
      -- Concurrent requests with one key: the database lets exactly one in.
      CREATE UNIQUE INDEX approvals_idempotency ON approvals (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
      CREATE INDEX approvals_tenant_recent ON approvals (tenant_id, created_at DESC, id DESC);
      CREATE INDEX approvals_pending ON approvals (tenant_id, customer_id, expires_at) WHERE status = 'pending';
      ${isolate('approvals')}

      -- Messages leaving the system (approved intents to replay, notifications), written in the
      -- transaction that decided them and delivered afterwards by the relay.
      CREATE TABLE outbox (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        kind text NOT NULL CHECK (kind IN ('approval.replay', 'notify')),
        approval_id uuid,
        payload jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        delivered_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, approval_id) REFERENCES approvals (tenant_id, id) ON DELETE CASCADE
      );
      -- One replay per approval, whatever races happen above it.
      CREATE UNIQUE INDEX outbox_one_replay ON outbox (tenant_id, approval_id) WHERE kind = 'approval.replay';
      CREATE INDEX outbox_due ON outbox (tenant_id, next_attempt_at) WHERE status = 'pending';
      ${isolate('outbox')}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE outbox; DROP TABLE approvals;`);
  }
}
