import { MigrationInterface, QueryRunner } from 'typeorm';

const TENANT = `(select nullif(current_setting('app.tenant_id', true), '')::uuid)`;

/** Forced RLS with one policy whose WITH CHECK equals its USING, plus the runtime role's grants. */
function isolate(table: string, column = 'tenant_id'): string {
  return `
    ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;
    ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON ${table}
      USING (${column} = ${TENANT}) WITH CHECK (${column} = ${TENANT});
    GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO hydracore_app;`;
}

export class Directory1732406400000 implements MigrationInterface {
  name = 'Directory1732406400000';

  async up(q: QueryRunner): Promise<void> {
    // hydracore_app is the role requests run as (SET LOCAL ROLE): no login, no ownership,
    // no BYPASSRLS. Roles are cluster-wide, so another database may have created it already.
    await q.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hydracore_app') THEN
          CREATE ROLE hydracore_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
        END IF;
      END $$;
      GRANT hydracore_app TO CURRENT_USER;
      GRANT USAGE ON SCHEMA public TO hydracore_app;`);

    await q.query(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
        created_at timestamptz NOT NULL DEFAULT now()
      );
      ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
      ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
      CREATE POLICY tenant_isolation ON tenants USING (id = ${TENANT}) WITH CHECK (id = ${TENANT});
      GRANT SELECT, INSERT ON tenants TO hydracore_app;

      CREATE TABLE customers (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id)
      );
      CREATE INDEX customers_tenant_created ON customers (tenant_id, created_at DESC, id DESC);
      ${isolate('customers')}

      CREATE TABLE persons (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        customer_id uuid NOT NULL,
        name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
        email text,
        phone text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        -- lets other tables require "this person of this customer" with one composite key
        UNIQUE (tenant_id, customer_id, id),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
      );
      ${isolate('persons')}

      CREATE TABLE instances (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id)
      );
      CREATE INDEX instances_tenant_created ON instances (tenant_id, created_at DESC, id DESC);
      ${isolate('instances')}

      CREATE TABLE proxy_keys (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        instance_id uuid NOT NULL,
        key_hash bytea NOT NULL,
        key_hint text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, key_hash),
        FOREIGN KEY (tenant_id, instance_id) REFERENCES instances (tenant_id, id) ON DELETE CASCADE
      );
      CREATE INDEX proxy_keys_instance ON proxy_keys (tenant_id, instance_id);
      ${isolate('proxy_keys')}

      CREATE TABLE api_keys (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
        role text NOT NULL CHECK (role IN ('admin', 'member')),
        customer_id uuid,
        key_hash bytea NOT NULL,
        key_hint text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, key_hash),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
      );
      ${isolate('api_keys')}`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The hydracore_app role stays: roles are cluster-wide and other databases may use it.
    await q.query(`
      DROP TABLE api_keys;
      DROP TABLE proxy_keys;
      DROP TABLE instances;
      DROP TABLE persons;
      DROP TABLE customers;
      DROP TABLE tenants;
      REVOKE USAGE ON SCHEMA public FROM hydracore_app;`);
  }
}
