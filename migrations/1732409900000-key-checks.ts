import { MigrationInterface, QueryRunner } from 'typeorm';

const WORKING = `k.tenant_id = tenant AND k.id = key_id AND k.key_hash = digest
         AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())`;

/**
 * The check of a key this replica has already looked up, which every request made with it runs
 * with its BEGIN, as functions. That round trip is a simple-protocol query, so its statements
 * are parsed and planned each time; the check's join was planned on every request. A PL/pgSQL
 * function's statement is planned once per connection, and the query that calls it is a
 * function scan, which costs little to plan.
 *
 * They run as their caller (the request's role, under its tenant's row-level security), and
 * answer what the inline statement did: one row for a working key, with its tenant's status
 * (and, for an API key, whether its last use is due to be stamped), none for any other.
 */
export class KeyChecks1732409900000 implements MigrationInterface {
  name = 'KeyChecks1732409900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION proxy_key_check(tenant uuid, key_id uuid, digest bytea)
        RETURNS TABLE (tenant_status text) LANGUAGE plpgsql STABLE AS $$
      BEGIN
        RETURN QUERY SELECT t.status FROM proxy_keys k JOIN tenants t ON t.id = k.tenant_id
         WHERE ${WORKING};
      END $$;
      CREATE FUNCTION api_key_check(tenant uuid, key_id uuid, digest bytea, stamp_every interval)
        RETURNS TABLE (tenant_status text, stale boolean) LANGUAGE plpgsql STABLE AS $$
      BEGIN
        RETURN QUERY SELECT t.status,
               k.last_used_at IS NULL OR k.last_used_at <= now() - stamp_every
          FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
         WHERE ${WORKING};
      END $$;`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP FUNCTION api_key_check(uuid, uuid, bytea, interval);
      DROP FUNCTION proxy_key_check(uuid, uuid, bytea);`);
  }
}
