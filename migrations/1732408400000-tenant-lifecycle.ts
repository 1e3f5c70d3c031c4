import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lifecycle columns of the directory:
 * - tenants.status: a suspended tenant's every credential is refused (the platform sets it, in
 *   the tenant's own context, so the runtime role may update that one column and no other);
 *   The platform's cross-tenant role, which saw tenant ids only, now reads the tenants' own
 *   columns too (name, status, created_at), for the platform's list of tenants: the registry of
 *   tenants is the platform's, and nothing of any tenant's data is in it;
 * - api_keys.expires_at / last_used_at: an optional end of life, and when the key last served
 *   (written at most once a minute per key, by the credential lookup itself);
 * - proxy_keys.expires_at: the end of a rotated key's grace;
 * - persons.erased_at: an erased person keeps its row and id (histories name it) with its name,
 *   email and phone gone;
 * - instances.deleted_at: a deleted instance keeps its row, so the workflows, bindings and
 *   events that name it keep a valid reference; it is gone from every route.
 */
export class TenantLifecycle1732408400000 implements MigrationInterface {
  name = 'TenantLifecycle1732408400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE tenants ADD COLUMN status text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'suspended'));
      GRANT UPDATE (status) ON tenants TO hydracore_app;
      GRANT SELECT (name, status, created_at) ON tenants TO hydracore_worker;
      ALTER TABLE api_keys ADD COLUMN expires_at timestamptz, ADD COLUMN last_used_at timestamptz;
      ALTER TABLE proxy_keys ADD COLUMN expires_at timestamptz;
      ALTER TABLE instances ADD COLUMN deleted_at timestamptz;
      ALTER TABLE persons ADD COLUMN erased_at timestamptz;`);
  }

  /**
   * Without these columns nothing would stop a suspended tenant or a key past its end of life,
   * so neither may come back to life: a suspended tenant refuses the down (there is no
   * suspension to go back to), and a key with an end of life is revoked at it, or now if it is
   * still ahead. The owner lifts FORCE for these statements only, inside this migration's
   * transaction, to see every tenant's rows.
   */
  async down(q: QueryRunner): Promise<void> {
    const tables = ['tenants', 'api_keys', 'proxy_keys'];
    await q.query(`
      ${tables.map((table) => `ALTER TABLE ${table} NO FORCE ROW LEVEL SECURITY;`).join('\n')}
      DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM tenants WHERE status <> 'active') THEN
          RAISE EXCEPTION 'a tenant is suspended: make it active or remove it before this down';
        END IF;
      END $$;
      UPDATE api_keys SET revoked_at = least(expires_at, now())
       WHERE expires_at IS NOT NULL AND revoked_at IS NULL;
      UPDATE proxy_keys SET revoked_at = least(expires_at, now())
       WHERE expires_at IS NOT NULL AND revoked_at IS NULL;
      ${tables.map((table) => `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;`).join('\n')}
      ALTER TABLE persons DROP COLUMN erased_at;
      ALTER TABLE instances DROP COLUMN deleted_at;
      ALTER TABLE proxy_keys DROP COLUMN expires_at;
      ALTER TABLE api_keys DROP COLUMN last_used_at, DROP COLUMN expires_at;
      REVOKE SELECT (name, status, created_at) ON tenants FROM hydracore_worker;
      REVOKE UPDATE (status) ON tenants FROM hydracore_app;
      ALTER TABLE tenants DROP COLUMN status;`);
  }
}
